"""The gateway application: routes, error handling, keys and limits around a CallBackend."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI

from switchboard.blobs import BlobStore
from switchboard.config import Settings
from switchboard_gateway import (
    acs_routes,
    call_control_api,
    calls_api,
    docs,
    health,
    recordings_api,
    reports,
    softphone,
    twilio_routes,
)
from switchboard_gateway.auth import ApiKeys
from switchboard_gateway.backend import CallBackend
from switchboard_gateway.carrier_link import CarrierLink
from switchboard_gateway.headers import SecurityHeaders
from switchboard_gateway.method_guard import MethodGuard
from switchboard_gateway.middleware import AccessLog, BodyGuard, KeyLogin
from switchboard_gateway.phone_handoff import HandoffExchange
from switchboard_gateway.phone_link import PhoneExchange
from switchboard_gateway.problems import install_error_handlers
from switchboard_gateway.rate_limits import RateLimit
from switchboard_gateway.webhook_delivery import WebhookDispatcher

VERSION = "0.1.0"
# Pages a browser opens from a link; they accept ``?key=`` (see :mod:`switchboard_gateway.auth`).
BROWSER_PAGES = ("/report", "/docs", "/softphone")
# Carrier webhooks that post forms instead of JSON.
FORM_PATHS = ("/twilio/",)

DESCRIPTION = """\
Switchboard places phone calls handled by an AI agent and reports on them.

Authenticate with `Authorization: Bearer <key>`. In a browser, open `/report` or
`/docs` once with `?key=<key>`: a session cookie keeps you signed in.
Errors are `{"error": {"message": "...", "details": ["..."]}}`.
"""


def create_app(
    settings: Settings,
    calls: CallBackend,
    phones: PhoneExchange | None = None,
    clock: Callable[[], float] = time.time,
    carriers: CarrierLink | None = None,
    webhooks: WebhookDispatcher | None = None,
    recordings: BlobStore | None = None,
) -> FastAPI:
    """The ASGI app; ``calls``, ``phones`` and ``recordings`` are closed when it shuts down.

    Without ``phones`` the softphone page is served but its line refuses to connect.
    ``clock`` (seconds since the epoch) dates browser sessions and paces rate limits.
    ``webhooks`` posts completion webhooks while the app runs. ``recordings`` is where
    call recordings are read (none: no call has a recording).
    """

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if webhooks is not None:
            webhooks.start()
        try:
            yield
        finally:
            if webhooks is not None:
                await webhooks.stop()
            await calls.close()
            if phones is not None:
                await phones.close()
            if carriers is not None:
                await carriers.close()
            if recordings is not None:
                await recordings.close()

    app = FastAPI(
        title="Switchboard",
        version=VERSION,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served by switchboard_gateway.docs, behind the keys
        redoc_url=None,
        openapi_url=None,
    )
    keys = ApiKeys(settings.gateway.api_keys, clock)
    app.state.settings = settings
    app.state.calls = calls
    app.state.api_keys = keys
    app.state.recordings = recordings
    # One number's lines follow each other: a reconnecting browser is not refused.
    app.state.phones = HandoffExchange(phones) if phones is not None else None
    # The ACS endpoints are live when acs.url_signing_key is set (else they answer 404).
    app.state.acs = acs_routes.acs_edge(settings.acs, carriers) if carriers is not None else None
    app.state.carrier_link = carriers
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(calls_api.router)
    app.include_router(call_control_api.router)
    app.include_router(recordings_api.router)
    app.include_router(reports.router)
    app.include_router(docs.router)
    app.include_router(softphone.pages)
    app.include_router(softphone.sockets)
    # Twilio's webhooks and media sockets, when the dialer runs Twilio and is reachable.
    if settings.dialer.telephony == "twilio" and carriers is not None:
        from switchboard_gateway.twilio_link import TwilioSignatures

        app.state.twilio_signatures = TwilioSignatures(settings.dialer.twilio)
        app.include_router(twilio_routes.router)
    app.include_router(acs_routes.router)
    app.include_router(acs_routes.sockets)
    # The last added runs first: log everything, add security headers to every answer,
    # refuse unknown methods, limit rates, then limit bodies, then browser login.
    https = settings.gateway.public_url.startswith("https://")
    app.add_middleware(KeyLogin, keys=keys, prefixes=BROWSER_PAGES, https=https)
    app.add_middleware(BodyGuard, max_bytes=settings.gateway.max_body_bytes, form_paths=FORM_PATHS)
    app.add_middleware(
        RateLimit, settings=settings.gateway.rate_limits, pages=BROWSER_PAGES, clock=clock
    )
    app.add_middleware(MethodGuard, routes=app.router.routes)
    app.add_middleware(SecurityHeaders, https=https)
    app.add_middleware(AccessLog)
    return app
