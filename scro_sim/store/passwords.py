"""Password hashing: scrypt from the standard library, a standard slow hash, constant-time checks."""

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
