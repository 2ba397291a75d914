"""Verifiable credentials for completed modules: Open Badges 2.0 assertions signed as JWS.

An Open Badges 2.0 *signed* assertion (verification type ``SignedBadge``) is the assertion JSON
as the payload of a compact JWS, signed with the issuer's private key; anyone holding the issuer's
public key checks it offline (:func:`verify_credential`, ``scro-sim credential verify``).  The
keys come from settings: ``$SCRO_SIM_BADGE_KEY`` names a PEM private key (RSA, signed RS256 as
the Open Badges specification asks, or Ed25519, signed EdDSA), ``$SCRO_SIM_BADGE_ISSUER`` the
issuer's http(s) address (its profile; the public key is published at ``<issuer>/public-key``,
which the assertion names as ``verification.creator``) and ``$SCRO_SIM_BADGE_ISSUER_NAME`` its name.

The recipient is identified by a salted SHA-256 hash of their e-mail (or of their account
address when they have none), so the badge shows no e-mail in clear.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from .errors import ScroSimError
from .transcript import TranscriptLine

__all__ = ["ISSUER_ENV", "ISSUER_NAME_ENV", "KEY_ENV", "BadgeIssuer", "VerifiedCredential", "badge_issuer",
           "issue_credential", "public_key_pem", "verify_credential"]

KEY_ENV = "SCRO_SIM_BADGE_KEY"
ISSUER_ENV = "SCRO_SIM_BADGE_ISSUER"
ISSUER_NAME_ENV = "SCRO_SIM_BADGE_ISSUER_NAME"
OB_CONTEXT = "https://w3id.org/openbadges/v2"


@dataclass(frozen=True)
class BadgeIssuer:
    """Who signs badges, with which key."""

    url: str  # the issuer profile's IRI
    name: str
    private_key: Any  # a cryptography private key (RSA or Ed25519)

    @property
    def algorithm(self) -> str:
        from cryptography.hazmat.primitives.asymmetric import ed25519

        return "EdDSA" if isinstance(self.private_key, ed25519.Ed25519PrivateKey) else "RS256"


@dataclass(frozen=True)
class VerifiedCredential:
    """A credential whose signature checked out, and what it says."""

    assertion: dict[str, Any]
    badge_name: str
    issued_on: str
    algorithm: str


def _load_private_key(path: Path) -> Any:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as exc:
        raise ScroSimError(f"cannot read the badge key: {exc.strerror or exc}", path=str(path), field=KEY_ENV) from None
    except (ValueError, TypeError) as exc:
        raise ScroSimError(f"not an unencrypted PEM private key: {exc}", path=str(path), field=KEY_ENV) from None
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < 2048:
            raise ScroSimError(f"an RSA badge key needs at least 2048 bits, not {key.key_size}", path=str(path),
                               field=KEY_ENV)
        return key
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key
    raise ScroSimError("a badge key is RSA or Ed25519", path=str(path), field=KEY_ENV)


def badge_issuer(env: Mapping[str, str] | None = None) -> BadgeIssuer:
    """The issuer from settings (``$SCRO_SIM_BADGE_KEY``, ``$SCRO_SIM_BADGE_ISSUER``, ``$SCRO_SIM_BADGE_ISSUER_NAME``)."""
    env = os.environ if env is None else env
    key_path = env.get(KEY_ENV, "").strip()
    url = env.get(ISSUER_ENV, "").strip()
    if not key_path:
        raise ScroSimError(f"no badge key: set ${KEY_ENV} to a PEM private key (RSA 2048+ or Ed25519, e.g. "
                           "'openssl genpkey -algorithm ed25519 -out badge-key.pem')", field=KEY_ENV)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ScroSimError(f"${ISSUER_ENV} must be the issuer's http(s) address (e.g. https://crisis.example.edu/badges), "
                           f"not {url!r}", field=ISSUER_ENV)
    return BadgeIssuer(url.rstrip("/"), env.get(ISSUER_NAME_ENV, "").strip() or parts.netloc,
                       _load_private_key(Path(key_path)))


def public_key_pem(issuer: BadgeIssuer) -> str:
    """The issuer's public key in PEM, to publish at ``<issuer>/public-key`` and give to verifiers."""
    from cryptography.hazmat.primitives import serialization

    return issuer.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def issue_credential(issuer: BadgeIssuer, *, learner: str, recipient: str, module: str,
                     evidence: Mapping[str, TranscriptLine], issued_on: datetime | None = None) -> str:
    """A signed Open Badges 2.0 assertion (compact JWS) that ``learner`` completed ``module``.

    ``recipient`` is the learner's e-mail (or an account IRI when none); ``evidence`` the module's
    outcomes with the run that evidenced each best (:func:`scro_sim.transcript.completed_modules`).
    """
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    if not evidence:
        raise ScroSimError(f"module {module!r} has no evidenced outcome: nothing to certify", field="module")
    moment = (issued_on or datetime.now(UTC)).astimezone(UTC)
    salt = uuid.uuid5(uuid.NAMESPACE_URL, f"{issuer.url}/salt/{learner}").hex
    kind = "email" if "@" in recipient and ":" not in recipient else "url"
    runs = sorted({ln.run_id for ln in evidence.values()})
    assertion = {
        "@context": OB_CONTEXT,
        "type": "Assertion",
        "id": "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"{issuer.url}/assertion/{learner}/{module}/"
                                                          + "/".join(runs))),
        "recipient": {"type": kind, "hashed": True, "salt": salt,
                      "identity": "sha256$" + hashlib.sha256((recipient + salt).encode("utf-8")).hexdigest()},
        "badge": {
            "type": "BadgeClass",
            "id": f"{issuer.url}/badges/{quote(module, safe='')}",
            "name": f"Module {module} completed",
            "description": f"Every learning outcome of module {module} evidenced at rating P, S or M "
                           "in assessed crisis-management simulation exercises (scro_sim).",
            "criteria": {"narrative": "Each outcome of the module rated P (performed without challenges), "
                                      "S (some challenges) or M (major challenges) by the exercise's rubric "
                                      "and, for judged criteria, an assessor."},
            "alignment": [{"targetName": f"{module} {o}", "targetUrl": f"{issuer.url}/modules/{quote(module, safe='')}"
                           f"/outcomes/{quote(o, safe='')}"} for o in sorted(evidence)],
            "issuer": {"type": "Profile", "id": issuer.url, "name": issuer.name, "url": issuer.url,
                       "publicKey": f"{issuer.url}/public-key"},
        },
        "issuedOn": moment.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "evidence": [{"id": f"urn:scro-sim:run:{ln.run_id}", "name": f"{module} {o}: rated {ln.rating}",
                      "narrative": f"Run {ln.run_id} of scenario {ln.scenario_id}, finished {ln.finished_at}, "
                                   f"criteria {ln.criteria}: outcome {o} rated {ln.rating}."}
                     for o, ln in sorted(evidence.items())],
        "verification": {"type": "SignedBadge", "creator": f"{issuer.url}/public-key"},
    }
    header = {"alg": issuer.algorithm, "typ": "JWT"}
    signing_input = (_b64(json.dumps(header, separators=(",", ":")).encode()) + "."
                     + _b64(json.dumps(assertion, separators=(",", ":"), ensure_ascii=False).encode("utf-8")))
    if issuer.algorithm == "EdDSA":
        signature = issuer.private_key.sign(signing_input.encode("ascii"))
    else:
        signature = issuer.private_key.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
    return signing_input + "." + _b64(signature)


def verify_credential(token: str, public_key_pem_text: str, *, now: datetime | None = None) -> VerifiedCredential:
    """Check a signed assertion against the issuer's public key (PEM) with PyJWT; raise ScroSimError if it fails."""
    import jwt
    from cryptography.hazmat.primitives import serialization

    try:
        key = serialization.load_pem_public_key(public_key_pem_text.encode("ascii"))
    except ValueError as exc:
        raise ScroSimError(f"not a PEM public key: {exc}", field="key") from None
    from cryptography.hazmat.primitives.asymmetric import ed25519

    token = token.strip()
    algorithm = "EdDSA" if isinstance(key, ed25519.Ed25519PublicKey) else "RS256"  # the key decides, never the token
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") != algorithm:
            raise jwt.InvalidSignatureError("algorithm differs from the key's")
        payload = jwt.decode(token, key=key, algorithms=[algorithm],  # type: ignore[arg-type]
                             options={"verify_aud": False, "require": []})
    except jwt.InvalidSignatureError:
        raise ScroSimError("the signature does not match: the credential was changed, or another issuer's key "
                           "was given", field="signature") from None
    except jwt.PyJWTError as exc:
        raise ScroSimError(f"not a signed credential: {exc}", field="credential") from None
    for name in ("@context", "type", "id", "recipient", "badge", "issuedOn", "verification"):
        if name not in payload:
            raise ScroSimError(f"not an Open Badges 2.0 assertion: no {name!r}", field=name)
    if payload["type"] != "Assertion" or payload["verification"].get("type") != "SignedBadge":
        raise ScroSimError("not a signed Open Badges 2.0 assertion", field="type")
    expires = payload.get("expires")
    if expires and datetime.fromisoformat(expires.replace("Z", "+00:00")) < (now or datetime.now(UTC)):
        raise ScroSimError(f"the credential expired on {expires}", field="expires")
    badge = payload["badge"]
    return VerifiedCredential(payload, badge.get("name", "") if isinstance(badge, dict) else str(badge),
                              payload["issuedOn"], header.get("alg", ""))
