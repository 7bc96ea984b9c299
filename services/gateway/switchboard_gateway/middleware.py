"""ASGI middleware: request-body limits, the ``?key=`` browser login, and the access log."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from urllib.parse import urlencode

from starlette.datastructures import Headers, QueryParams
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from switchboard_gateway.auth import SESSION_COOKIE, SESSION_MAX_AGE_SEC, ApiKeys
from switchboard_gateway.problems import envelope

log = logging.getLogger("switchboard_gateway.access")

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def reject(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """An answer in the error envelope, for middleware that refuses before any route runs."""
    return JSONResponse(envelope(message), status_code=status, headers=headers)


def is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def is_form(content_type: str) -> bool:
    return content_type.split(";", 1)[0].strip().lower() == "application/x-www-form-urlencoded"


class BodyGuard:
    """Refuses bodies over ``max_bytes`` (413) and bodies that are not JSON (415).

    The size is checked on ``Content-Length`` and again while reading, so a
    chunked upload cannot get past it; nothing is parsed before the check.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, form_paths: tuple[str, ...] = ()) -> None:
        self.app = app
        self.max_bytes = max_bytes
        # Carrier webhooks (Twilio) post HTML forms, not JSON.
        self.form_paths = form_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        too_big = reject(
            413, f"the body must be at most {self.max_bytes} bytes ({self.max_bytes // 1024} KiB)"
        )
        declared = headers.get("content-length")
        if declared is not None:
            if not declared.isdigit():
                await reject(400, "Content-Length must be a number of bytes")(scope, receive, send)
                return
            if int(declared) > self.max_bytes:
                await too_big(scope, receive, send)
                return
        content_type = headers.get("content-type", "")
        no_body = declared == "0" or (declared is None and "transfer-encoding" not in headers)
        if not content_type and no_body:
            # A POST without a body (POST /call/{id}/hangup): nothing to guard.
            await self.app(scope, receive, send)
            return
        form = str(scope["path"]).startswith(self.form_paths) and is_form(content_type)
        if not form and not is_json(content_type):
            await reject(415, "the body must be JSON: send Content-Type: application/json")(
                scope, receive, send
            )
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await too_big(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(b"".join(chunks), receive), send)


def _replay(body: bytes, receive: Receive) -> Receive:
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


class KeyLogin:
    """Browser sessions on the pages: ``GET <page>?key=<key>`` sets the session cookie and
    redirects without the key; a valid cookie past half its life is reissued on the way out.

    The cookie is HttpOnly and SameSite=Strict, and Secure when the request came over
    HTTPS or the gateway's public URL is HTTPS (behind a TLS-terminating proxy).
    """

    def __init__(
        self, app: ASGIApp, keys: ApiKeys, prefixes: Sequence[str], https: bool = False
    ) -> None:
        self.app = app
        self.keys = keys
        self.prefixes = tuple(prefixes)
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or not str(scope["path"]).startswith(self.prefixes)
        ):
            await self.app(scope, receive, send)
            return
        query = QueryParams(scope.get("query_string", b"").decode("latin-1"))
        key = query.get("key")
        if key is None:
            await self.app(scope, receive, self._renewing(scope, send))
            return
        if not self.keys.configured or not self.keys.accepts(key):
            await reject(401, "the key is not valid", {"WWW-Authenticate": "Bearer"})(
                scope, receive, send
            )
            return
        rest = urlencode([(k, v) for k, v in query.multi_items() if k != "key"])
        location = scope.get("root_path", "") + scope["path"] + (f"?{rest}" if rest else "")
        response = RedirectResponse(location, 303)
        response.headers.append("set-cookie", self._cookie(scope, self.keys.session_token(key)))
        await response(scope, receive, send)

    def _renewing(self, scope: Scope, send: Send) -> Send:
        """``send`` that adds a fresh cookie to a successful answer to an ageing session."""
        token = Headers(scope=scope).get("cookie", "")
        current = _cookie_value(token, SESSION_COOKIE)
        if current is None or not self.keys.session_needs_renewal(current):
            return send
        key = self.keys.key_of_session(current)
        if key is None:
            return send

        async def send_renewed(message: Message) -> None:
            if message["type"] == "http.response.start" and int(message["status"]) < 400:
                cookie = self._cookie(scope, self.keys.session_token(key)).encode("latin-1")
                message = {**message, "headers": [*message["headers"], (b"set-cookie", cookie)]}
            await send(message)

        return send_renewed

    def _cookie(self, scope: Scope, token: str) -> str:
        response = Response()
        response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=SESSION_MAX_AGE_SEC,
            httponly=True,
            samesite="strict",
            secure=self.https or scope.get("scheme") == "https",
            path="/",
        )
        return response.headers["set-cookie"]


def _cookie_value(header: str, name: str) -> str | None:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None


class AccessLog:
    """One log line per request: method, route template, status, duration.

    The route template (``/call/{call_id}``) is logged, never the raw path or the
    query string, which may hold phone numbers; those go in ``pii_path``.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            route = scope.get("route")
            log.info(
                "request",
                extra={
                    "method": scope["method"],
                    "route": str(getattr(route, "path", "unmatched")),
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    "pii_path": scope["path"],
                },
            )


class QuietWebSockets(logging.Filter):
    """Keeps uvicorn's WebSocket chatter out of the logs.

    Its handshake lines (``"WebSocket /softphone/ws?key=…" [accepted]``) carry the
    raw query string, which may hold an API key; and uvicorn hands its own logger to
    the websockets library, which logs every header (cookies) and every frame
    (transcripts) at DEBUG. So below INFO nothing of ``uvicorn.error`` is kept. The
    softphone logs its own connections instead. Install it on ``uvicorn.error``.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if str(record.msg).startswith('%s - "WebSocket %s"'):
            return False
        return record.levelno >= logging.INFO
