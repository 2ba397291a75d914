"""The launch endpoint (``scro-sim lti-serve``): the few HTTP requests a course platform makes of the tool.

Streamlit cannot take a launch's form POST, so this small standard-library server does and
then hands the browser to the app with a single-use ticket.  Routes, under the path of the
set-up's ``tool.base_url`` (or at the root):

``GET|POST /login``
    OIDC third-party login initiation: redirect to the platform's authorisation URL.
``POST /launch``
    The platform's id_token: a resource-link launch is redirected to the app signed in, a
    deep-linking launch gets the exercise chooser.
``POST /deep-link``
    The teacher's choice: a page that posts the signed deep-linking response back.
``GET /.well-known/jwks.json``
    The tool's public key set (for the platform to check the tool's JWTs).

A refused request gets a plain page saying why (and what to do) and a ``scro_sim.lti`` log
line with the reason, the issuer and the client address.
"""

from __future__ import annotations

import html
import json
import logging
import secrets
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlparse

from ..errors import StoreError
from ..store import Store
from .config import LtiConfig, LtiError
from .deeplink import chooser_page, response_jwt, response_page
from .launch import Launch, Refused, login_redirect, sign_in_redirect, validate_launch

__all__ = ["make_server"]

log = logging.getLogger("scro_sim.lti")

MAX_BODY = 64 * 1024

_HELP = {
    "expired": "The launch took too long to arrive. Open the activity again from your course.",
    "replayed launch": "This launch was already used. Open the activity again from your course.",
    "expired login": "The launch took too long to arrive. Open the activity again from your course.",
}


def _refusal_page(reason: str, detail: str) -> str:
    advice = _HELP.get(reason, "Open the activity again from your course; if this keeps happening, "
                               "tell your course administrator what this page says.")
    return ('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Launch refused</title></head><body>'
            f'<h1>The launch from your course was refused</h1><p><strong>{html.escape(reason)}</strong>: '
            f'{html.escape(detail)}</p><p>{html.escape(advice)}</p></body></html>')


def make_server(config: LtiConfig | Callable[[], LtiConfig], store: Store, address: str = "127.0.0.1",
                port: int = 0) -> ThreadingHTTPServer:
    """The launch endpoint bound to ``address:port`` (0: any free port); call ``serve_forever()`` on it.

    ``config`` may be a function, read at each request, so a changed set-up file takes effect
    without a restart.
    """
    get_config: Callable[[], LtiConfig] = config if callable(config) else (lambda: config)  # type: ignore[assignment,return-value]

    class Handler(BaseHTTPRequestHandler):
        server_version = "scro_sim-lti"

        def log_message(self, format: str, *args: object) -> None:
            log.debug("%s %s", self.address_string(), format % args)

        # -- plumbing

        def _route(self) -> str:
            path = urlparse(self.path).path
            prefix = urlparse(get_config().base_url).path.rstrip("/")
            if prefix and (path == prefix or path.startswith(prefix + "/")):
                path = path[len(prefix):]
            return path.rstrip("/") or "/"

        def _form(self) -> dict[str, str]:
            query = dict(parse_qsl(urlparse(self.path).query))
            if self.command != "POST":
                return query
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                raise Refused("request too large", f"more than {MAX_BODY} bytes")
            body = self.rfile.read(length).decode("utf-8", "replace")
            return {**query, **dict(parse_qsl(body, keep_blank_values=True))}

        def _send(self, status: int, body: str, ctype: str = "text/html; charset=utf-8",
                  headers: dict[str, str] | None = None) -> None:
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("Referrer-Policy", "no-referrer")
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def _redirect(self, url: str) -> None:
            self.send_response(302)
            self.send_header("Location", url)
            self.send_header("Content-Length", "0")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Referrer-Policy", "no-referrer")
            self.end_headers()

        def _refuse(self, exc: Refused) -> None:
            log.warning("lti %s refused from %s: %s: %s", self._route(), self.client_address[0], exc.reason, exc.detail)
            self._send(403 if exc.reason not in ("incomplete login", "incomplete launch", "request too large") else 400,
                       _refusal_page(exc.reason, exc.detail))

        # -- routes

        def do_GET(self) -> None:
            self._handle()

        def do_POST(self) -> None:
            self._handle()

        def _handle(self) -> None:
            try:
                config = get_config()
                route = self._route()
                if route == "/.well-known/jwks.json" and self.command == "GET":
                    self._send(200, json.dumps(config.key.jwks()), "application/json")
                    return
                form = self._form()
                if route == "/login":
                    self._redirect(login_redirect(config, store, form))
                elif route == "/launch" and self.command == "POST":
                    launch = validate_launch(config, store, form.get("id_token", ""), form.get("state", ""))
                    self._launched(config, launch)
                elif route == "/deep-link" and self.command == "POST":
                    url, token = response_jwt(config, form.get("session", ""), form.get("exercise", ""))
                    nonce = secrets.token_urlsafe(16)
                    self._send(200, response_page(url, token, nonce), headers={
                        "Content-Security-Policy": f"default-src 'none'; script-src 'nonce-{nonce}'; form-action {url}"})
                else:
                    self._send(404, _refusal_page("not found", f"{self.command} {route} is not a route of this tool"))
            except Refused as exc:
                self._refuse(exc)
            except LtiError as exc:
                log.error("lti %s: the tool's set-up is wrong: %s", self.path, exc)
                self._send(500, _refusal_page("tool set-up error", "tell your course administrator"))
            except StoreError as exc:
                log.error("lti %s: the store refused: %s", self._route(), exc)
                self._send(503, _refusal_page("service unavailable", "the tool cannot reach its database; try again later"))
            except Exception:  # a bug: one page and the traceback in the log, never a dropped connection
                log.exception("lti %s: internal error", self._route())
                self._send(500, _refusal_page("internal error", "the tool failed; tell your course administrator"))

        def _launched(self, config: LtiConfig, launch: Launch) -> None:
            if launch.message_type == "LtiDeepLinkingRequest":
                self._send(200, chooser_page(config, launch))
            else:
                self._redirect(sign_in_redirect(config, store, launch))

    server = ThreadingHTTPServer((address, port), Handler)
    server.daemon_threads = True
    return server
