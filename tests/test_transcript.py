"""A learner's transcript of evidenced outcomes, and signed Open Badges credentials for completed modules.

The credential is checked twice: by ``scro-sim credential verify`` (PyJWT) and here by hand with
``cryptography`` alone (split the compact JWS, verify the signature over ``header.payload``).
"""

from __future__ import annotations

import base64
import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from scro_sim.credentials import badge_issuer, issue_credential, public_key_pem, verify_credential
from scro_sim.errors import ScroSimError
from scro_sim.lms import GradeRow, OutcomeEvidence
from scro_sim.transcript import completed_modules, transcript, transcript_csv, transcript_json

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def row(run_id: str, outcomes: tuple[OutcomeEvidence, ...], *, hours: int = 0, learner: str = "maria") -> GradeRow:
    return GradeRow(username=learner, email=None, display_name=None, scenario_id="riverton_flood",
                    scenario_title="Riverton flood", run_id=run_id, score=70.0, passed=True, provisional=False,
                    started_at=T0, finished_at=T0 + timedelta(hours=hours + 1), outcomes=outcomes)


ROWS = [
    row("r1", (OutcomeEvidence("M13", "LO1", "U", ("a",)), OutcomeEvidence("M14", "LO2", "S", ("b",)))),
    row("r2", (OutcomeEvidence("M13", "LO1", "M", ("a",)), OutcomeEvidence("M13", "LO4", None, ("c",))), hours=2),
    row("r3", (OutcomeEvidence("M14", "LO2", "P", ("b",)),), hours=3),
    row("x1", (OutcomeEvidence("M15", "LO1", "P", ("a",)),), learner="nikos"),
]


def test_the_transcript_lists_each_outcome_each_run_evidenced() -> None:
    lines = transcript(ROWS, "maria")
    assert [(ln.module, ln.outcome, ln.rating, ln.run_id) for ln in lines] == [
        ("M13", "LO1", "U", "r1"), ("M13", "LO1", "M", "r2"), ("M13", "LO4", None, "r2"),
        ("M14", "LO2", "S", "r1"), ("M14", "LO2", "P", "r3")]
    table = list(csv.DictReader(io.StringIO(transcript_csv(lines), newline="")))
    assert table[2] == {"module": "M13", "outcome": "LO4", "rating": "", "run_id": "r2", "scenario_id": "riverton_flood",
                        "finished_at": "2026-03-01T12:00:00+00:00", "score": "70.0", "criteria": "c"}
    body = json.loads(transcript_json("maria", lines, now=T0))
    assert body["learner"] == "maria" and len(body["evidence"]) == 5
    assert list(body["completed_modules"]) == ["M14"]


def test_a_module_is_completed_when_every_outcome_touched_passed_once() -> None:
    done = completed_modules(transcript(ROWS, "maria"))
    assert list(done) == ["M14"]  # M13's LO4 awaits an assessor
    assert done["M14"]["LO2"].run_id == "r3"  # the best rating is the evidence
    assert completed_modules(transcript(ROWS[:1], "maria")) == {"M14": {"LO2": transcript(ROWS[:1], "maria")[1]}}
    assert completed_modules(transcript(ROWS, "nobody")) == {}


# -- credentials


def _write_key(folder: Path, kind: str) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048) if kind == "rsa" \
        else ed25519.Ed25519PrivateKey.generate()
    path = folder / f"{kind}.pem"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return path


def _env(key: Path) -> dict[str, str]:
    return {"SCRO_SIM_BADGE_KEY": str(key), "SCRO_SIM_BADGE_ISSUER": "https://crisis.example.edu/badges",
            "SCRO_SIM_BADGE_ISSUER_NAME": "Crisis management course"}


def _b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@pytest.mark.parametrize("kind", ["rsa", "ed25519"])
def test_a_credential_verifies_independently_with_the_public_key(tmp_path: Path, kind: str) -> None:
    issuer = badge_issuer(_env(_write_key(tmp_path, kind)))
    evidence = completed_modules(transcript(ROWS, "maria"))["M14"]
    token = issue_credential(issuer, learner="maria", recipient="maria@uni.example", module="M14", evidence=evidence,
                             issued_on=T0)
    header, payload, signature = token.split(".")
    public = serialization.load_pem_public_key(public_key_pem(issuer).encode())
    signed = f"{header}.{payload}".encode()
    if kind == "rsa":
        assert json.loads(_b64(header))["alg"] == "RS256"
        public.verify(_b64(signature), signed, padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr,call-arg]
    else:
        assert json.loads(_b64(header))["alg"] == "EdDSA"
        public.verify(_b64(signature), signed)  # type: ignore[union-attr,call-arg]
    assertion = json.loads(_b64(payload))
    assert assertion["@context"] == "https://w3id.org/openbadges/v2" and assertion["type"] == "Assertion"
    assert assertion["verification"] == {"type": "SignedBadge", "creator": "https://crisis.example.edu/badges/public-key"}
    assert assertion["badge"]["alignment"][0]["targetName"] == "M14 LO2"
    assert "maria@uni.example" not in token and assertion["recipient"]["hashed"] is True
    assert [e["id"] for e in assertion["evidence"]] == ["urn:scro-sim:run:r3"]
    assert verify_credential(token, public_key_pem(issuer)).badge_name == "Module M14 completed"


def test_a_changed_credential_or_another_key_is_refused(tmp_path: Path) -> None:
    issuer = badge_issuer(_env(_write_key(tmp_path, "rsa")))
    token = issue_credential(issuer, learner="maria", recipient="maria@uni.example", module="M14",
                             evidence=completed_modules(transcript(ROWS, "maria"))["M14"])
    header, payload, signature = token.split(".")
    forged = json.loads(_b64(payload)) | {"badge": "https://elsewhere.example/badge"}
    forged_payload = base64.urlsafe_b64encode(json.dumps(forged).encode()).rstrip(b"=").decode()
    with pytest.raises(ScroSimError, match="signature does not match"):
        verify_credential(f"{header}.{forged_payload}.{signature}", public_key_pem(issuer))
    other = badge_issuer(_env(_write_key(tmp_path, "ed25519")))
    with pytest.raises(ScroSimError, match="signature does not match"):
        verify_credential(token, public_key_pem(other))
    with pytest.raises(ScroSimError, match="signature does not match"):
        (tmp_path / "other").mkdir()
        verify_credential(token, public_key_pem(badge_issuer(_env(_write_key(tmp_path / "other", "rsa")))))
    with pytest.raises(ScroSimError, match=r"not a signed credential"):
        verify_credential("not.a.badge", public_key_pem(issuer))


@pytest.mark.parametrize(("env", "message"), [
    ({}, "no badge key"),
    ({"SCRO_SIM_BADGE_KEY": "k.pem", "SCRO_SIM_BADGE_ISSUER": "crisis.example.edu"}, "must be the issuer's http"),
    ({"SCRO_SIM_BADGE_KEY": "/nonexistent/k.pem", "SCRO_SIM_BADGE_ISSUER": "https://x.example"}, "cannot read"),
])
def test_bad_badge_settings_are_refused(env: dict[str, str], message: str) -> None:
    with pytest.raises(ScroSimError, match=message):
        badge_issuer(env)


def test_a_weak_or_foreign_key_is_refused(tmp_path: Path) -> None:
    weak = tmp_path / "weak.pem"
    weak.write_bytes(rsa.generate_private_key(public_exponent=65537, key_size=1024).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    with pytest.raises(ScroSimError, match="at least 2048 bits"):
        badge_issuer(_env(weak))
    junk = tmp_path / "junk.pem"
    junk.write_text("not a key")
    with pytest.raises(ScroSimError, match="not an unencrypted PEM private key"):
        badge_issuer(_env(junk))


# -- from the command line, over a real store


def test_transcript_and_credential_from_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from scro_sim.assessment import override
    from scro_sim.cli import main
    from scro_sim.scoring import ScoreCard
    from scro_sim.store import Store

    db = f"sqlite:///{tmp_path / 'course.sqlite'}"
    scenario = str(Path(__file__).parent.parent / "scenarios" / "riverton_flood.yaml")
    assert main(["--db", db, "demo"]) == 0
    assert main(["--db", db, "run", scenario, "--plan", "riverton_cautious", "--origin", "plan", "--seed", "2",
                 "--store", "--learner", "learner", "--cohort", "demo-cohort"]) == 0
    with Store(db) as store:
        (run,) = store.list_runs()
        card = ScoreCard.model_validate(store.get_run(run.id).scorecard)
    capsys.readouterr()
    out = tmp_path / "t.csv"
    assert main(["--db", db, "transcript", "learner", "--out", str(out)]) == 0
    before = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"), newline="")))
    assert {r["run_id"] for r in before} == {run.id} and any(r["rating"] == "" for r in before)  # judged: awaiting
    from scro_sim.course import default_course

    course = default_course()
    for r in before:  # each row names its module's EQF level and ECVET points from the course map
        m = course.module(r["module"])
        assert m is not None and r["eqf_level"] == str(m.eqf_level) and float(r["ecvet_points"]) == m.ecvet_points
    for env_name, value in _env(_write_key(tmp_path, "ed25519")).items():
        monkeypatch.setenv(env_name, value)
    module = next(m.module for m in card.modules if m.provisional)  # a judged criterion awaits an assessor
    badge = tmp_path / "badge.jws"
    assert main(["--db", db, "credential", "issue", "learner", module, "--out", str(badge)]) == 1
    assert "has not completed module" in capsys.readouterr().err
    with Store(db) as store:
        for c in card.criteria:
            override(store, run.id, c.id, "S", "rated for the test", "assessor")
    assert main(["--db", db, "transcript", "learner", "--format", "json", "--out", str(out)]) == 0
    body = json.loads(out.read_text(encoding="utf-8"))
    assert module in body["completed_modules"]
    assert body["ecvet_points_completed"] == sum(course.module(m).ecvet_points for m in body["completed_modules"])
    assert body["module_facts"][module]["eqf_level"] == course.module(module).eqf_level
    assert main(["--db", db, "credential", "issue", "learner", module, "--out", str(badge)]) == 0
    assert main(["--db", db, "credential", "public-key"]) == 0
    key = tmp_path / "public.pem"
    key.write_text(capsys.readouterr().out.split("wrote")[-1].split("\n", 1)[-1])
    assert main(["credential", "verify", str(badge), "--key", str(key)]) == 0
    assert f"verified: Module {module} completed" in capsys.readouterr().out
    badge.write_text(badge.read_text().replace(".", ".x", 1))
    assert main(["credential", "verify", str(badge), "--key", str(key)]) == 1
    assert main(["--db", db, "transcript", "nobody"]) == 1
    assert "unknown learner 'nobody'" in capsys.readouterr().err
