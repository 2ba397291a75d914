"""LTI 1.3 against a course platform simulated on loopback: its own RSA keys and JWKS, signed launches,
a token endpoint and a grade service that record what they receive (no network beyond 127.0.0.1)."""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlencode, urlparse

import pytest

jwt = pytest.importorskip("jwt")
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402

from scro_sim.assessment import judge, override, record_run  # noqa: E402
from scro_sim.errors import ScroSimError  # noqa: E402
from scro_sim.lti import LtiError, load_config  # noqa: E402
from scro_sim.lti.launch import AGS_ENDPOINT, LTI, SCORE_SCOPE, lti_username  # noqa: E402
from scro_sim.lti.server import make_server  # noqa: E402
from scro_sim.store import Store  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
ISS = "https://platform.example"  # the platform's issuer (an identifier: never fetched)
CLIENT_ID = "scro-client-1"
DEPLOYMENT = "dep-1"
EXERCISE = "mini-flood"  # tests/data/mini_scenario.yaml, offered through $SCRO_SIM_SCENARIOS_DIR


def _rsa() -> Any:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem(key: Any) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


@dataclass
class Platform:
    """A course platform on loopback: JWKS, token endpoint and grade service, recording what they receive."""

    key: Any
    url: str = ""
    kid: str = "platform-key-1"
    tool_jwks_url: str = ""
    tokens: list[dict[str, Any]] = field(default_factory=list)
    scores: list[dict[str, Any]] = field(default_factory=list)
    fail_scores: bool = False

    def jwks(self) -> dict[str, Any]:
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        return {"keys": [{**jwk, "kid": self.kid, "alg": "RS256", "use": "sig"}]}

    def id_token(self, nonce: str, *, key: Any = None, exp_in: int = 300, aud: Any = CLIENT_ID, iss: str = ISS,
                 sub: str = "user-42", message_type: str = "LtiResourceLinkRequest", exercise: str | None = EXERCISE,
                 extra: dict[str, Any] | None = None) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": iss, "aud": aud, "sub": sub, "iat": now, "exp": now + exp_in, "nonce": nonce,
            "name": "Maria Papadopoulou", "email": "maria@example.org",
            LTI + "message_type": message_type, LTI + "version": "1.3.0", LTI + "deployment_id": DEPLOYMENT,
            LTI + "target_link_uri": "placeholder", LTI + "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"],
            LTI + "context": {"id": "course-7", "label": "CRISIS M14", "title": "Smart City Resilience"},
            LTI + "resource_link": {"id": "link-1"},
            LTI + "launch_presentation": {"locale": "el-GR"},
            AGS_ENDPOINT: {"scope": [SCORE_SCOPE], "lineitem": f"{self.url}/lineitems/7?type=x",
                           "lineitems": f"{self.url}/lineitems"},
        }
        if exercise is not None:
            claims[LTI + "custom"] = {"exercise": exercise}
        claims.update(extra or {})
        return jwt.encode(claims, key or self.key, algorithm="RS256", headers={"kid": self.kid})


def _serve(handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _platform_server(p: Platform) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _json(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path == "/jwks":
                self._json(200, p.jwks())
            else:
                self._json(404, {})

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            path = urlparse(self.path)
            if path.path == "/token":
                form = dict(parse_qsl(body.decode()))
                # the platform checks the tool's client assertion with the key set the tool publishes
                key = jwt.PyJWKClient(p.tool_jwks_url).get_signing_key_from_jwt(form["client_assertion"]).key
                claims = jwt.decode(form["client_assertion"], key, algorithms=["RS256"], audience=f"{p.url}/token")
                p.tokens.append({"form": form, "assertion": claims})
                self._json(200, {"access_token": f"tok-{len(p.tokens)}", "token_type": "Bearer", "expires_in": 3600})
            elif path.path.endswith("/scores"):
                if p.fail_scores:
                    self._json(503, {"error": "down for maintenance"})
                    return
                p.scores.append({"path": path.path, "query": path.query, "auth": self.headers.get("Authorization"),
                                 "type": self.headers.get("Content-Type"), "body": json.loads(body)})
                self._json(200, {})
            else:
                self._json(404, {})

    return _serve(Handler)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def _call(url: str, form: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    """(status, headers, body) of a GET (or a form POST), redirects not followed."""
    data = urlencode(form).encode() if form is not None else None
    try:
        with _OPENER.open(urllib.request.Request(url, data=data), timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode()


@dataclass
class Rig:
    platform: Platform
    store: Store
    tool_url: str
    app_url: str
    config_path: Path

    def login(self, **params: str) -> dict[str, str]:
        """Start a launch at the tool as the platform does; the query the tool redirects the browser with."""
        query = {"iss": ISS, "login_hint": "hint-42", "target_link_uri": f"{self.tool_url}/launch",
                 "client_id": CLIENT_ID, "lti_message_hint": "m-1", **params}
        status, headers, _ = _call(f"{self.tool_url}/login?{urlencode(query)}")
        assert status == 302, status
        loc = urlparse(headers["Location"])
        assert loc.netloc == urlparse(self.platform.url).netloc and loc.path == "/auth"
        return {k: v[0] for k, v in parse_qs(loc.query).items()}

    def launch(self, id_token: str, state: str) -> tuple[int, dict[str, str], str]:
        return _call(f"{self.tool_url}/launch", {"id_token": id_token, "state": state})

    def launch_ok(self, **token_args: Any) -> str:
        """A whole launch; the ticket the tool sends the browser to the app with."""
        auth = self.login()
        status, headers, body = self.launch(self.platform.id_token(auth["nonce"], **token_args), auth["state"])
        assert status == 302, body
        loc = urlparse(headers["Location"])
        assert f"{loc.scheme}://{loc.netloc}" == self.app_url
        return parse_qs(loc.query)["lti_ticket"][0]


@pytest.fixture(scope="module")
def keys() -> tuple[Any, Any]:
    return _rsa(), _rsa()


@pytest.fixture
def rig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keys: tuple[Any, Any]) -> Iterator[Rig]:
    platform_key, tool_key = keys
    scen = tmp_path / "scenarios"
    scen.mkdir()
    (scen / "mini.yaml").write_text((DATA / "mini_scenario.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setenv("SCRO_SIM_SCENARIOS_DIR", str(scen))
    monkeypatch.setenv("SCRO_SIM_CITY_PATH", str(DATA))
    monkeypatch.setenv("SCRO_SIM_SECRET", "a-test-secret-of-enough-length")
    monkeypatch.delenv("SCRO_SIM_PROVISIONAL", raising=False)
    db = f"sqlite:///{tmp_path / 'lti.sqlite'}"
    platform = Platform(platform_key)
    pserver = _platform_server(platform)
    platform.url = f"http://127.0.0.1:{pserver.server_address[1]}"
    (tmp_path / "tool.pem").write_bytes(_pem(tool_key))
    holder: dict[str, Any] = {}
    with Store(db) as store:
        tserver = make_server(lambda: holder["config"], store)
        threading.Thread(target=tserver.serve_forever, daemon=True).start()
        tool_url = f"http://127.0.0.1:{tserver.server_address[1]}/lti"
        app_url = "http://127.0.0.1:8501"
        cfg = tmp_path / "lti.yaml"
        cfg.write_text(f"""\
tool:
  base_url: {tool_url}
  app_url: {app_url}
  private_key_file: tool.pem
platforms:
  - name: the simulated platform
    issuer: {ISS}
    client_id: {CLIENT_ID}
    deployment_ids: ["{DEPLOYMENT}"]
    auth_login_url: {platform.url}/auth
    auth_token_url: {platform.url}/token
    key_set_url: {platform.url}/jwks
""", encoding="utf-8")
        holder["config"] = load_config(cfg)
        platform.tool_jwks_url = f"{tool_url}/.well-known/jwks.json"
        monkeypatch.setenv("SCRO_SIM_LTI_CONFIG", str(cfg))
        monkeypatch.setenv("SCRO_SIM_DB", db)
        try:
            yield Rig(platform, store, tool_url, app_url, cfg)
        finally:
            tserver.shutdown()
            tserver.server_close()
            pserver.shutdown()
            pserver.server_close()


LEARNER = lti_username(ISS, "user-42")


# -- launch


def test_a_launch_signs_the_learner_in_through_a_single_use_ticket(rig: Rig) -> None:
    ticket = rig.launch_ok()
    use = rig.store.lti_redeem_ticket(ticket)
    assert use.status == "ok" and use.user is not None and use.exercise == EXERCISE
    assert use.user.username == LEARNER and use.user.role == "learner"
    assert use.user.display_name == "Maria Papadopoulou" and use.user.language == "el"
    cohorts = rig.store.cohorts_of(LEARNER)
    assert [c.title for c in cohorts] == ["Smart City Resilience"] and cohorts[0].name.startswith("lti-CRISIS-M14-")
    [item] = rig.store.lti_line_items(LEARNER, EXERCISE)
    assert item.lineitem == f"{rig.platform.url}/lineitems/7?type=x" and item.subject == "user-42"
    assert rig.store.lti_redeem_ticket(ticket).status == "used"  # single use
    forged = ticket[:-2] + ("00" if ticket[-2:] != "00" else "11")  # another signature, whatever the seed
    assert rig.store.lti_redeem_ticket(forged).status == "invalid"


def test_a_second_launch_finds_the_same_account(rig: Rig) -> None:
    rig.launch_ok()
    rig.launch_ok()
    assert [u.username for u in rig.store.list_users() if u.username.startswith("lti-")] == [LEARNER]
    assert len(rig.store.lti_line_items(LEARNER)) == 1


def test_a_launch_without_a_course_context_signs_in_without_a_cohort(rig: Rig) -> None:
    assert rig.store.lti_redeem_ticket(rig.launch_ok(extra={LTI + "context": "not an object"})).status == "ok"
    assert rig.store.cohorts_of(LEARNER) == []


def test_the_app_redeems_the_ticket_and_opens_the_exercise(rig: Rig) -> None:
    pytest.importorskip("streamlit")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from streamlit.testing.v1 import AppTest

    ticket = rig.launch_ok()
    at = AppTest.from_file(str(ROOT / "app" / "streamlit_app.py"), default_timeout=60)
    at.query_params["lti_ticket"] = ticket
    at.run()
    assert not at.exception, at.exception
    assert "lti_ticket" not in at.query_params  # the ticket leaves the address at once
    assert at.session_state["scro.user"].username == LEARNER and at.session_state["scro.user"].via == "lti"
    assert at.selectbox(key="w.play.scenario@el").value == "b:mini.yaml"  # the linked exercise is chosen
    again = AppTest.from_file(str(ROOT / "app" / "streamlit_app.py"), default_timeout=60)
    again.query_params["lti_ticket"] = ticket
    again.run()
    assert "scro.user" not in again.session_state
    assert any("expired or was used already" in e.value for e in again.error)


@pytest.mark.parametrize(("case", "reason"), [
    ("expired", "expired"),
    ("wrong audience", "wrong audience"),
    ("wrong issuer", "wrong issuer"),
    ("bad signature", "bad signature"),
    ("wrong nonce", "wrong nonce"),
    ("unknown deployment", "unknown deployment"),
    ("unknown exercise", "unknown exercise"),
    ("no user", "anonymous launch"),
    ("LTI 1.1 version", "wrong LTI version"),
])
def test_bad_launches_are_refused_with_a_page_and_a_log_line(rig: Rig, case: str, reason: str,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    auth = rig.login()
    p = rig.platform
    token = {
        "expired": lambda: p.id_token(auth["nonce"], exp_in=-600),
        "wrong audience": lambda: p.id_token(auth["nonce"], aud="another-tool"),
        "wrong issuer": lambda: p.id_token(auth["nonce"], iss="https://evil.example"),
        "bad signature": lambda: p.id_token(auth["nonce"], key=_rsa()),  # the platform's kid, another key
        "wrong nonce": lambda: p.id_token("not-the-nonce"),
        "unknown deployment": lambda: p.id_token(auth["nonce"], extra={LTI + "deployment_id": "dep-9"}),
        "unknown exercise": lambda: p.id_token(auth["nonce"], exercise="no-such-exercise"),
        "no user": lambda: p.id_token(auth["nonce"], sub=""),
        "LTI 1.1 version": lambda: p.id_token(auth["nonce"], extra={LTI + "version": "1.1"}),
    }[case]()
    with caplog.at_level(logging.WARNING, logger="scro_sim.lti"):
        status, headers, body = rig.launch(token, auth["state"])
    assert status == 403 and "Location" not in headers
    assert "The launch from your course was refused" in body and reason in body
    assert any(reason in r.getMessage() and "refused" in r.getMessage() for r in caplog.records)
    assert rig.store.get_user(LEARNER) is None


def test_a_replayed_launch_is_refused(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    auth = rig.login()
    token = rig.platform.id_token(auth["nonce"])
    assert rig.launch(token, auth["state"])[0] == 302
    with caplog.at_level(logging.WARNING, logger="scro_sim.lti"):
        status, _, body = rig.launch(token, auth["state"])
    assert status == 403 and "replayed launch" in body
    assert any("replayed launch" in r.getMessage() for r in caplog.records)


def test_a_launch_that_did_not_start_at_the_tool_is_refused(rig: Rig) -> None:
    status, _, body = rig.launch(rig.platform.id_token("n"), "a-state-never-issued")
    assert status == 403 and "unknown login" in body


def test_a_second_tool_server_shares_the_nonces_through_the_database(rig: Rig) -> None:
    """A replay sent to another launch endpoint on the same database is refused too."""
    auth = rig.login()
    token = rig.platform.id_token(auth["nonce"])
    assert rig.launch(token, auth["state"])[0] == 302
    other = make_server(load_config(rig.config_path), Store(rig.store.url))
    threading.Thread(target=other.serve_forever, daemon=True).start()
    try:
        status, _, body = _call(f"http://127.0.0.1:{other.server_address[1]}/lti/launch",
                                {"id_token": token, "state": auth["state"]})
    finally:
        other.shutdown()
        other.server_close()
    assert status == 403 and "replayed launch" in body


def test_login_from_an_unknown_platform_is_refused(rig: Rig) -> None:
    status, _, body = _call(f"{rig.tool_url}/login?{urlencode({'iss': 'https://other.example', 'login_hint': 'x'})}")
    assert status == 403 and "unknown platform" in body


def test_the_tool_publishes_its_public_key_set(rig: Rig) -> None:
    status, headers, body = _call(f"{rig.tool_url}/.well-known/jwks.json")
    assert status == 200 and headers["Content-Type"] == "application/json"
    [key] = json.loads(body)["keys"]
    assert key["kty"] == "RSA" and key["alg"] == "RS256" and "d" not in key  # public only


# -- grade passback


def _finish_run(rig: Rig, mini_scenario: Any, mini_city: Any) -> str:
    run_id, card = record_run(rig.store, mini_scenario, mini_city, 3, [], learner=LEARNER,
                              cohort=rig.store.cohorts_of(LEARNER)[0].name)
    assert card.provisional  # two judged criteria wait for an assessor
    return run_id


def test_finishing_a_graded_run_posts_the_score_and_an_assessors_ratings_post_it_again(
        rig: Rig, mini_scenario: Any, mini_city: Any) -> None:
    rig.launch_ok()
    run_id = _finish_run(rig, mini_scenario, mini_city)
    [first] = rig.platform.scores
    assert first["path"] == "/lineitems/7/scores" and first["query"] == "type=x"
    assert first["type"] == "application/vnd.ims.lis.v1.score+json" and first["auth"] == "Bearer tok-1"
    body = first["body"]
    assert body["userId"] == "user-42" and body["scoreMaximum"] == 100 and body["activityProgress"] == "Completed"
    assert body["gradingProgress"] == "PendingManual" and "provisional" in body["comment"]  # default mode: mark
    run = rig.store.get_run(run_id)
    assert body["scoreGiven"] == round(run.total, 2)
    [tok] = rig.platform.tokens
    assert tok["form"]["grant_type"] == "client_credentials" and tok["form"]["scope"] == SCORE_SCOPE
    assert tok["assertion"]["iss"] == tok["assertion"]["sub"] == CLIENT_ID

    rig.store.add_user("assessor1", "correct horse battery staple 42", "assessor")
    judge(rig.store, run_id, "C3", "P", "clear priorities", "assessor1")
    judge(rig.store, run_id, "C4", "S", "mostly clear", "assessor1")
    rated = rig.platform.scores[-1]["body"]
    assert len(rig.platform.scores) == 3 and rated["gradingProgress"] == "FullyGraded" and "comment" not in rated
    assert rated["scoreGiven"] == round(rig.store.get_run(run_id).total, 2)
    assert rated["timestamp"] >= body["timestamp"]
    assert len(rig.platform.tokens) == 1  # the token is kept until it expires

    override(rig.store, run_id, "C4", "U", "the warning named the wrong district", "assessor1")
    after = rig.platform.scores[-1]["body"]
    assert len(rig.platform.scores) == 4 and after["scoreGiven"] == round(rig.store.get_run(run_id).total, 2)
    assert after["scoreGiven"] < rated["scoreGiven"]
    assert [i.status for i in rig.store.lti_line_items(LEARNER)] == ["sent"]


def test_provisional_grades_are_held_back_when_the_mode_says_so(
        rig: Rig, mini_scenario: Any, mini_city: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCRO_SIM_PROVISIONAL", "hold")
    rig.launch_ok()
    _finish_run(rig, mini_scenario, mini_city)
    [held] = rig.platform.scores
    assert held["body"]["gradingProgress"] == "PendingManual" and "scoreGiven" not in held["body"]


def test_practice_runs_and_learners_launched_without_a_line_item_post_nothing(
        rig: Rig, mini_scenario: Any, mini_city: Any) -> None:
    rig.launch_ok()
    record_run(rig.store, mini_scenario, mini_city, 3, [], learner=LEARNER, origin="practice")
    assert rig.platform.scores == []
    rig.launch_ok(sub="user-43", extra={AGS_ENDPOINT: {"scope": [], "lineitems": "x"}})
    assert rig.store.lti_line_items(lti_username(ISS, "user-43")) == []


def test_a_platform_that_is_down_never_stops_the_run_and_lti_sync_sends_the_grade_later(
        rig: Rig, mini_scenario: Any, mini_city: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from scro_sim.cli import main

    rig.launch_ok()
    rig.platform.fail_scores = True
    run_id = _finish_run(rig, mini_scenario, mini_city)
    assert rig.store.get_run(run_id) is not None and rig.platform.scores == []
    [item] = rig.store.lti_line_items(LEARNER)
    assert item.status is not None and item.status.startswith("failed: the platform's grade service at http://127.0.0.1")
    assert "answered HTTP 503: " in item.status
    assert main(["lti-sync", "--db", str(rig.store.url)]) == 1  # still down
    rig.platform.fail_scores = False
    assert main(["lti-sync", "--db", str(rig.store.url)]) == 0
    assert "sent" in capsys.readouterr().out and len(rig.platform.scores) == 1
    assert rig.store.lti_line_items(LEARNER, unsent=True) == []


# -- deep linking


def test_deep_linking_returns_a_signed_choice_of_exercise_that_verifies_with_the_tools_public_key(rig: Rig) -> None:
    auth = rig.login()
    settings = {"deep_link_return_url": f"{rig.platform.url}/dl-return", "accept_types": ["ltiResourceLink"],
                "accept_presentation_document_targets": ["iframe", "window"], "data": "opaque-123"}
    token = rig.platform.id_token(auth["nonce"], message_type="LtiDeepLinkingRequest", exercise=None,
                                  extra={"https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings": settings})
    status, _, page = rig.launch(token, auth["state"])
    assert status == 200 and "Mini flood" in page
    session = page.split('name="session" value="')[1].split('"')[0]
    status, headers, page = _call(f"{rig.tool_url}/deep-link", {"session": session, "exercise": EXERCISE})
    assert status == 200 and f'action="{rig.platform.url}/dl-return"' in page
    assert "form-action" in headers["Content-Security-Policy"]
    response = page.split('name="JWT" value="')[1].split('"')[0]
    key = jwt.PyJWKClient(f"{rig.tool_url}/.well-known/jwks.json").get_signing_key_from_jwt(response).key
    claims = jwt.decode(response, key, algorithms=["RS256"], audience=ISS)
    assert claims["iss"] == CLIENT_ID and claims[LTI + "message_type"] == "LtiDeepLinkingResponse"
    assert claims[LTI + "deployment_id"] == DEPLOYMENT and claims[LTI + "version"] == "1.3.0"
    assert claims["https://purl.imsglobal.org/spec/lti-dl/claim/data"] == "opaque-123"
    [item] = claims["https://purl.imsglobal.org/spec/lti-dl/claim/content_items"]
    assert item["type"] == "ltiResourceLink" and item["url"] == f"{rig.tool_url}/launch"
    assert item["custom"] == {"exercise": EXERCISE} and item["lineItem"]["scoreMaximum"] == 100
    with pytest.raises(jwt.InvalidSignatureError):  # a key other than the tool's does not verify it
        jwt.decode(response, _rsa().public_key(), algorithms=["RS256"], audience=ISS)


def test_a_forged_deep_linking_choice_is_refused(rig: Rig) -> None:
    forged = jwt.encode({"iss": rig.tool_url, "aud": rig.tool_url, "iat": int(time.time()),
                         "exp": int(time.time()) + 60, "typ": "scro_sim deep linking", "return_url": "https://x"},
                        _rsa(), algorithm="RS256")
    status, _, body = _call(f"{rig.tool_url}/deep-link", {"session": forged, "exercise": EXERCISE})
    assert status == 403 and "invalid deep linking session" in body


# -- the set-up file


def test_a_bad_set_up_file_names_the_file_line_and_field(tmp_path: Path) -> None:
    cfg = tmp_path / "lti.yaml"
    cfg.write_text("tool:\n  base_url: http://tool.example\n  app_url: https://app.example\n"
                   "  private_key_file: missing.pem\nplatforms: []\n", encoding="utf-8")
    with pytest.raises(LtiError) as err:
        load_config(cfg)
    text = str(err.value)
    assert f"{cfg}:2: tool.base_url" in text and "https" in text
    assert f"{cfg}:5: platforms" in text


def test_a_missing_key_file_is_one_clear_line(tmp_path: Path) -> None:
    cfg = tmp_path / "lti.yaml"
    cfg.write_text("""\
tool: {base_url: "https://tool.example", app_url: "https://app.example", private_key_file: missing.pem}
platforms:
  - {issuer: i, client_id: c, deployment_ids: ["1"], auth_login_url: "https://p/a", auth_token_url: "https://p/t",
     key_set_url: "https://p/k"}
""", encoding="utf-8")
    with pytest.raises(ScroSimError, match=r"lti.yaml:1: tool.private_key_file: cannot read the tool's private key"):
        load_config(cfg)


def test_lti_serve_serves_the_tools_key_set_until_stopped(rig: Rig, tmp_path: Path) -> None:
    import os
    import subprocess

    env = {**os.environ, "SCRO_SIM_LTI_CONFIG": str(rig.config_path)}
    proc = subprocess.Popen([sys.executable, "-m", "scro_sim.cli", "lti-serve", "--port", "0", "--db",
                             f"sqlite:///{tmp_path / 'serve.sqlite'}"], env=env, stdout=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline() if proc.stdout else ""
        port = int(first.split("http://127.0.0.1:")[1].split()[0])
        status, _, body = _call(f"http://127.0.0.1:{port}/lti/.well-known/jwks.json")
        assert status == 200 and json.loads(body)["keys"][0]["kty"] == "RSA"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_lti_serve_without_a_set_up_says_so(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from scro_sim.cli import main

    monkeypatch.delenv("SCRO_SIM_LTI_CONFIG", raising=False)
    assert main(["lti-serve"]) != 0
    assert "no LTI set-up" in capsys.readouterr().err


def test_a_launched_learners_data_export_shows_and_erasure_removes_their_platform_links(rig: Rig) -> None:
    from scro_sim.privacy import erase_person, export_person

    rig.launch_ok()
    [link] = export_person(rig.store, LEARNER)["course_platforms"]
    assert link["issuer"] == ISS and link["subject"] == "user-42"
    assert [i["scenario_id"] for i in link["line_items"]] == [EXERCISE]
    erase_person(rig.store, LEARNER)
    assert rig.store.get_user(LEARNER) is None and rig.store.lti_line_items() == []
    assert rig.launch_ok()  # a new launch makes a new account
