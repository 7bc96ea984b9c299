"""405 with ``Allow`` for a method no route of the path accepts, before any body check.

Starlette answers 405 only after the body guard has refused a bodiless ``PUT`` with
415, and its ``Allow`` names the methods of the first route of the path alone
(``DELETE /call`` said ``Allow: POST`` though ``GET /call`` exists). Here every route
of the path is asked, so the answer agrees with the OpenAPI document.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi.routing import iter_route_contexts
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Receive, Scope, Send

from switchboard_gateway.middleware import reject


class MethodGuard:
    """Answers 405 (with ``Allow``) when the path exists but not for this method."""

    def __init__(self, app: ASGIApp, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            allowed = self.allowed_methods(scope)
            if allowed is not None:
                await reject(
                    405,
                    "this endpoint does not accept that method; see /docs",
                    {"Allow": ", ".join(allowed)},
                )(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def allowed_methods(self, scope: Scope) -> list[str] | None:
        """The methods the path accepts when ``scope``'s is not one of them; else None."""
        allowed: set[str] = set()
        # FastAPI keeps included routers nested; their route contexts are the flat list.
        for route in iter_route_contexts(self.routes):
            match, _child = route.matches(scope)
            if match is Match.FULL:
                return None
            if match is Match.PARTIAL and route.methods:
                allowed |= route.methods
        return sorted(allowed) if allowed else None
