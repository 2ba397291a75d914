"""The LTI set-up file (``$SCRO_SIM_LTI_CONFIG``): the tool's own key and addresses, and each platform registered.

YAML, read with :mod:`scro_sim.yamlio` so a mistake is reported as ``file:line: field: message``::

    tool:
      base_url: https://scro.example.org/lti        # where `scro-sim lti-serve` is reached
      app_url: https://scro.example.org/            # the Streamlit app learners are sent to
      private_key_file: tool_key.pem                # RSA private key (PEM), relative to this file
    platforms:
      - name: Moodle of the course
        issuer: https://moodle.example.org
        client_id: aBcD1234
        deployment_ids: ["1"]
        auth_login_url: https://moodle.example.org/mod/lti/auth.php
        auth_token_url: https://moodle.example.org/mod/lti/token.php
        key_set_url: https://moodle.example.org/mod/lti/certs.php
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..errors import ScroSimError
from ..yamlio import load_yaml, validate_model

__all__ = ["CONFIG_ENV", "LtiConfig", "LtiError", "Platform", "ToolKey", "configured", "load_config"]

#: The environment variable naming the set-up file.
CONFIG_ENV = "SCRO_SIM_LTI_CONFIG"


class LtiError(ScroSimError):
    """A launch, a set-up file or a grade post that cannot go through (the message says why)."""


def _url(value: str, field: str, *, local_http: bool = True) -> str:
    if not isinstance(value, str) or not value.startswith(("https://", "http://")) or " " in value:
        raise ValueError(f"{field} must be an http(s) address, not {value!r}")
    if value.startswith("http://") and not value.startswith(("http://127.0.0.1", "http://localhost", "http://[::1]")):
        raise ValueError(f"{field} must use https (plain http only on this machine: localhost, 127.0.0.1)")
    return value


class Platform(BaseModel):
    """One registration of scro_sim on a course platform (what the platform's admin page shows)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = ""
    issuer: str = Field(min_length=1, max_length=255)
    client_id: str = Field(min_length=1, max_length=255)
    deployment_ids: tuple[str, ...] = Field(min_length=1)
    auth_login_url: str
    auth_token_url: str
    key_set_url: str
    #: the ``aud`` of the client assertion sent to the token endpoint (default: the token URL)
    auth_audience: str | None = None

    @field_validator("auth_login_url", "auth_token_url", "key_set_url")
    @classmethod
    def _urls(cls, value: str, info: Any) -> str:
        return _url(value, info.field_name)


class Tool(BaseModel):
    """scro_sim's own side: where it is reached and the key it signs with."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: str
    app_url: str
    private_key_file: str
    key_id: str | None = None

    @field_validator("base_url", "app_url")
    @classmethod
    def _urls(cls, value: str, info: Any) -> str:
        return _url(value, info.field_name).rstrip("/")


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tool: Tool
    platforms: tuple[Platform, ...] = Field(min_length=1)


@dataclass(frozen=True)
class ToolKey:
    """The tool's RSA key pair: the private key signs, the public one is published as a JWKS."""

    private_pem: bytes
    kid: str

    @cached_property
    def private_key(self) -> Any:
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        return load_pem_private_key(self.private_pem, password=None)

    def public_jwk(self) -> dict[str, Any]:
        """The public key as a JWK (``kid``, ``alg`` RS256, ``use`` sig)."""
        from jwt.algorithms import RSAAlgorithm

        jwk = RSAAlgorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        return {**jwk, "kid": self.kid, "alg": "RS256", "use": "sig"}

    def jwks(self) -> dict[str, Any]:
        """The JSON Web Key Set the tool publishes at ``/.well-known/jwks.json``."""
        return {"keys": [self.public_jwk()]}


@dataclass(frozen=True)
class LtiConfig:
    """The tool and its platform registrations, read from one file."""

    base_url: str
    app_url: str
    key: ToolKey
    platforms: tuple[Platform, ...]
    path: str = ""

    @property
    def login_url(self) -> str:
        return f"{self.base_url}/login"

    @property
    def launch_url(self) -> str:
        return f"{self.base_url}/launch"

    @property
    def jwks_url(self) -> str:
        return f"{self.base_url}/.well-known/jwks.json"

    def platform(self, issuer: str, client_id: str | None = None) -> Platform | None:
        """The registration of ``issuer`` (and ``client_id`` when given; a platform may register the tool twice)."""
        for p in self.platforms:
            if p.issuer == issuer and (client_id is None or p.client_id == client_id):
                return p
        return None


def load_config(path: str | Path) -> LtiConfig:
    """Read and check the set-up file, and the tool's key it names; problems raise :class:`LtiError`."""
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_private_key

    loaded = load_yaml(Path(path))
    data: _File = validate_model(_File, loaded, LtiError, "LTI set-up", "tool, platforms")
    seen: set[tuple[str, str]] = set()
    for i, p in enumerate(data.platforms):
        if (p.issuer, p.client_id) in seen:
            raise LtiError(f"{p.issuer} with client_id {p.client_id} is registered twice", path=loaded.path,
                           line=loaded.line_of(("platforms", i)), field=f"platforms[{i}]")
        seen.add((p.issuer, p.client_id))
    key_path = Path(data.tool.private_key_file)
    if not key_path.is_absolute():
        key_path = Path(path).parent / key_path
    where = {"path": loaded.path, "line": loaded.line_of(("tool", "private_key_file")), "field": "tool.private_key_file"}
    try:
        pem = key_path.read_bytes()
    except OSError as exc:
        raise LtiError(f"cannot read the tool's private key {key_path}: {exc.strerror}", **where) from None
    try:
        key = load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise LtiError(f"{key_path} is not an unencrypted PEM private key ({exc})", **where) from None
    if not isinstance(key, RSAPrivateKey) or key.key_size < 2048:
        raise LtiError(f"{key_path}: the tool's key must be RSA of at least 2048 bits (RS256)", **where)
    spki = key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    kid = data.tool.key_id or hashlib.sha256(spki).hexdigest()[:16]  # changes with the key: platforms refetch
    return LtiConfig(data.tool.base_url, data.tool.app_url, ToolKey(pem, kid), data.platforms, loaded.path)


_CACHE: dict[tuple[str, float], LtiConfig] = {}


def configured(env: dict[str, str] | None = None) -> LtiConfig | None:
    """The set-up ``$SCRO_SIM_LTI_CONFIG`` names (re-read when the file changes), or None when it names none."""
    path = (os.environ if env is None else env).get(CONFIG_ENV, "").strip()
    if not path:
        return None
    try:
        mtime = Path(path).stat().st_mtime
    except OSError as exc:
        raise LtiError(f"cannot read the LTI set-up file: {exc.strerror}", path=path, field=CONFIG_ENV) from None
    hit = _CACHE.get((path, mtime))
    if hit is None:
        hit = load_config(path)
        _CACHE.clear()
        _CACHE[(path, mtime)] = hit
    return hit
