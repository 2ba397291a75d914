"""Server-side signatures of stored runs, so a database writer without the secret cannot forge one.

A run's signature is an HMAC-SHA256, keyed with a server secret, over a canonical JSON
serialisation of everything a page or an export shows of it (the run row, its judgements,
overrides and score-card history).  Next to the MAC it keeps the key's id, so keys can be
rotated (old keys still verify; ``scro-sim resign`` moves runs to the current key), and a
short per-field tag, so a failed check can say *which* fields were changed.  The tags are
diagnostics only: a run verifies only when the full MAC matches.

The secret comes from ``$SCRO_SIM_SECRET`` (old keys: ``$SCRO_SIM_SECRET_OLD``, comma
separated), or from the file named by ``$SCRO_SIM_SECRET_FILE`` (first line the current key,
further lines old keys), or, for a local SQLite database, from a file generated once beside
it with mode 0600 (never inside the database).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import StoreError

__all__ = ["MIN_SECRET_CHARS", "Keyring", "SignatureCheck", "canonical", "key_id"]

MIN_SECRET_CHARS = 16
#: The signature layout made now.  Layout 1 (before runs recorded their origin) signed every
#: field but ``origin``; it still verifies, and the store checks such a run's origin itself
#: (see ``RunsMixin._check_signature``) until ``scro-sim resign`` moves it to layout 2.
_VERSION = 2
_NOT_IN_LAYOUT = {1: ("origin",)}
_TAG_HEX = 16  # 64-bit per-field tags: enough to name a changed field, the full MAC decides


def canonical(value: Any) -> bytes:
    """The one byte form of a JSON-able value that is signed (sorted keys, no spaces, UTF-8)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def key_id(secret: bytes) -> str:
    """A short public name of a key (a hash of it), stored with each signature."""
    return hashlib.sha256(b"scro_sim key id\0" + secret).hexdigest()[:8]


@dataclass(frozen=True)
class SignatureCheck:
    """The outcome of checking a signature: ``ok``, made with the current key or not, or what is wrong."""

    ok: bool
    current: bool = False
    problem: str = ""
    fields: tuple[str, ...] = ()  # the fields that differ from what was signed, when that is known
    layout: int = 0  # the signature's layout (1: made before runs recorded their origin, which it does not cover)


@dataclass
class Keyring:
    """The current signing key and the old keys that still verify."""

    current: bytes | None
    old: list[bytes] = field(default_factory=list)
    source: str = ""

    def __post_init__(self) -> None:
        for k in [self.current, *self.old]:
            if k is not None and len(k) < MIN_SECRET_CHARS:
                raise StoreError(f"a signing secret must have at least {MIN_SECRET_CHARS} characters"
                                 + (f" ({self.source})" if self.source else ""), field="secret")

    @classmethod
    def from_environment(cls, default_file: Path | None = None, env: Mapping[str, str] | None = None) -> Keyring:
        """The keys named by the environment, else those in ``default_file`` (created once, mode 0600)."""
        env = os.environ if env is None else env
        old = [k.strip().encode("utf-8") for k in env.get("SCRO_SIM_SECRET_OLD", "").split(",") if k.strip()]
        if env.get("SCRO_SIM_SECRET", "").strip():
            return cls(env["SCRO_SIM_SECRET"].strip().encode("utf-8"), old, "$SCRO_SIM_SECRET")
        if env.get("SCRO_SIM_SECRET_FILE", "").strip():
            path = Path(env["SCRO_SIM_SECRET_FILE"].strip())
            current, more = _read_keys(path)
            return cls(current, [*more, *old], str(path))
        if default_file is not None:
            current, more = _read_keys(_ensure_secret_file(default_file))
            return cls(current, [*more, *old], str(default_file))
        return cls(None, old, "")

    @classmethod
    def ephemeral(cls) -> Keyring:
        """A random key that lives as long as the process (for in-memory databases)."""
        return cls(secrets.token_urlsafe(32).encode("ascii"), [], "a random key for this process")

    def _need_current(self) -> bytes:
        if self.current is None:
            raise StoreError("no signing secret: set SCRO_SIM_SECRET or SCRO_SIM_SECRET_FILE (see the README)",
                             field="secret")
        return self.current

    def sign(self, fields: Mapping[str, Any], *, layout: int = _VERSION) -> str:
        """The signature (a compact JSON text) of a run's fields, with the current key.

        ``layout``: an older layout signs without the fields it did not know (tests make old
        signatures with it); new signatures use the current one.
        """
        key = self._need_current()
        fields = _in_layout(fields, layout)
        return json.dumps({"v": layout, "kid": key_id(key), "mac": _mac(key, fields), "tags": _tags(key, fields)},
                          sort_keys=True, separators=(",", ":"))

    def check(self, fields: Mapping[str, Any], signature: str | None) -> SignatureCheck:
        """Whether ``signature`` signs exactly ``fields`` with a key of this ring."""
        if signature is None or signature == "":
            return SignatureCheck(False, problem="signature missing: the run was not signed by this server "
                                                 "(stored before signing, or inserted directly into the database)")
        try:
            sig = json.loads(signature)
            kid, mac, tags = sig["kid"], sig["mac"], sig.get("tags") or {}
            layout = sig.get("v")
            if type(layout) is not int or layout not in (*_NOT_IN_LAYOUT, _VERSION) \
                    or not isinstance(kid, str) or not isinstance(mac, str) \
                    or not isinstance(tags, dict):
                raise ValueError("unknown layout")
        except (ValueError, TypeError, KeyError) as exc:
            return SignatureCheck(False, problem=f"signature unreadable ({exc})")
        keys = {key_id(k): k for k in [*self.old, *([self.current] if self.current else [])]}
        key = keys.get(kid)
        if key is None:
            return SignatureCheck(False, problem=f"signature made with key {kid}, which this server does not have "
                                                 f"(keys: {', '.join(sorted(keys)) or 'none'})")
        fields = _in_layout(fields, layout)
        if hmac.compare_digest(mac, _mac(key, fields)):
            return SignatureCheck(True, current=self.current is not None and kid == key_id(self.current)
                                  and layout == _VERSION, layout=layout)
        mine = _tags(key, fields)
        changed = tuple(sorted(k for k in set(mine) | set(tags) if not hmac.compare_digest(str(tags.get(k, "")),
                                                                                           mine.get(k, ""))))
        if "id" in changed:
            return SignatureCheck(False, problem="signature belongs to another run (copied from it)", fields=changed)
        if changed:
            return SignatureCheck(False, problem=f"signature does not match: {', '.join(changed)} "
                                                 f"{'differs' if len(changed) == 1 else 'differ'} from what was signed",
                                  fields=changed)
        return SignatureCheck(False, problem="signature does not match the run (the signature itself was altered)")


def _in_layout(fields: Mapping[str, Any], layout: int) -> Mapping[str, Any]:
    """The fields a signature of ``layout`` covers."""
    if layout not in (*_NOT_IN_LAYOUT, _VERSION):
        raise ValueError(f"unknown signature layout {layout!r}")
    left_out = _NOT_IN_LAYOUT.get(layout, ())
    return {k: v for k, v in fields.items() if k not in left_out} if left_out else fields


def _mac(key: bytes, fields: Mapping[str, Any]) -> str:
    return hmac.new(key, b"scro_sim run v1\0" + canonical(dict(fields)), hashlib.sha256).hexdigest()


def _tags(key: bytes, fields: Mapping[str, Any]) -> dict[str, str]:
    return {name: hmac.new(key, b"scro_sim field\0" + name.encode() + b"\0" + canonical(value),
                           hashlib.sha256).hexdigest()[:_TAG_HEX] for name, value in fields.items()}


def _read_keys(path: Path) -> tuple[bytes, list[bytes]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise StoreError(f"cannot read the signing secret: {exc}", path=str(path), field="secret") from exc
    keys = [ln.strip().encode("utf-8") for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    if not keys:
        raise StoreError("the signing secret file is empty", path=str(path), field="secret")
    return keys[0], keys[1:]


def _ensure_secret_file(path: Path) -> Path:
    """Create ``path`` with a random secret, mode 0600, unless it exists (safe against a concurrent creator)."""
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(secrets.token_urlsafe(32) + "\n")
        with contextlib.suppress(FileExistsError):  # a concurrent creator won; its file is whole
            os.link(tmp, path)  # atomic, and never replaces
    finally:
        tmp.unlink(missing_ok=True)
    return path
