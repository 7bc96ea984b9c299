"""Security headers on every answer: pages, the API, errors and the docs.

A route that needs more than the default policy (the softphone's scripts and socket,
the docs' Swagger UI) sets its own ``Content-Security-Policy``; this fills in only
what is missing. Nothing the gateway serves may be framed or sniffed, and no page
leaks its URL (which may hold a call id or a phone number) in a ``Referer``.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Pages are server-rendered HTML with the base template's inline styles and no script;
# the report plays the call's recording from this origin.
DEFAULT_CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; media-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": DEFAULT_CONTENT_SECURITY_POLICY,
}
HSTS = "max-age=31536000"


class SecurityHeaders:
    """Adds the headers of ``_ALWAYS`` a response lacks, and HSTS over HTTPS."""

    def __init__(self, app: ASGIApp, https: bool = False) -> None:
        self.app = app
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = self.https or scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in _ALWAYS.items():
                    if name not in headers:
                        headers[name] = value
                if https:
                    headers.setdefault("Strict-Transport-Security", HSTS)
            await send(message)

        await self.app(scope, receive, send_with_headers)
