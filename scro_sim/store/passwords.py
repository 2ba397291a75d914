"""Passwords: scrypt hashing (standard library, constant-time checks) and the strength rule for real accounts."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import TYPE_CHECKING

from ..errors import StoreError

if TYPE_CHECKING:  # pragma: no cover
    pass


# ---------------------------------------------------------------- password hashing

_SCRYPT_N, _SCRYPT_R, _SCRYPT_P, _SCRYPT_LEN = 2**14, 8, 1, 32


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str) -> str:
    """Hash a password with scrypt: ``scrypt$n$r$p$salt_b64$hash_b64`` (random 16-byte salt)."""
    if not isinstance(password, str) or not password:
        raise StoreError("password must be a non-empty string", field="password")
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=_SCRYPT_LEN
    )
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, encoded: str) -> bool:
    """True when ``password`` matches an ``encoded`` hash (constant-time compare)."""
    try:
        scheme, n, r, p, salt_b64, hash_b64 = encoded.split("$")
        if scheme != "scrypt":
            return False
        salt, expected = base64.b64decode(salt_b64), base64.b64decode(hash_b64)
        n_i, r_i, p_i = int(n), int(r), int(p)
        if not (2 <= n_i <= 2**20 and 1 <= r_i <= 32 and 1 <= p_i <= 16 and 16 <= len(expected) <= 64):
            return False
        actual = hashlib.scrypt(
            password.encode("utf-8"),
            salt=salt,
            n=n_i,
            r=r_i,
            p=p_i,
            dklen=len(expected),
            maxmem=256 * n_i * r_i + 2**20,
        )
    except (ValueError, TypeError, AttributeError):
        return False
    return hmac.compare_digest(actual, expected)


_DUMMY_HASH = f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${_b64(b'0' * 16)}${_b64(b'0' * _SCRYPT_LEN)}"


# ---------------------------------------------------------------- password strength

#: OWASP's authentication cheat sheet: a minimum length, a generous maximum, no composition
#: rules, and a check against common and guessable passwords (zxcvbn's dictionaries and patterns).
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128
#: zxcvbn score (0..4) a password must reach: 3 is "safely unguessable: moderate protection from
#: an offline slow-hash attack", which scrypt above is.
MIN_PASSWORD_SCORE = 3
#: words anyone guessing a scro_sim password would try first
_SITE_WORDS = ("scro", "scro_sim", "scrosim", "riverton", "crisis", "resilience", "demo")
#: characters a password must keep once the account's own words and the site's are taken out
_MIN_REST = 6


def check_password_strength(password: str, *, user_inputs: tuple[str | None, ...] = ()) -> None:
    """Refuse a weak password for a real account: too short, too long, common or guessable.

    ``user_inputs`` are the account's own words (username, name, e-mail), which a password must
    not be built from.  Raises :class:`StoreError` (field ``password``) saying why and how to fix it.
    """
    if not isinstance(password, str) or not password:
        raise StoreError("password must be a non-empty string", field="password")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StoreError(
            f"too short: use at least {MIN_PASSWORD_LENGTH} characters (a few unrelated words make a good one)",
            field="password",
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise StoreError(f"too long: use at most {MAX_PASSWORD_LENGTH} characters", field="password")
    from zxcvbn import zxcvbn

    words = [w for w in (*user_inputs, *_SITE_WORDS) if w]
    for w in list(words):
        words += [part for part in w.replace("@", " ").replace(".", " ").replace("-", " ").split() if len(part) > 2]
    rest = password.lower()
    for w in sorted({w.lower() for w in words if len(w) > 2}, key=len, reverse=True):
        rest = rest.replace(w, "")
    if len(rest) < _MIN_REST:
        raise StoreError("too weak: it is built from the account's own name or this site's name; "
                         "add a few unrelated words", field="password")
    result = zxcvbn(password, user_inputs=words, max_length=MAX_PASSWORD_LENGTH)
    if int(result["score"]) < MIN_PASSWORD_SCORE:
        feedback = result.get("feedback") or {}
        why = feedback.get("warning") or "it is too easy to guess"
        hint = " ".join(feedback.get("suggestions") or ()) or "Add another word or two; uncommon words are better."
        raise StoreError(f"too weak: {why.rstrip('.')}. {hint}", field="password")
