"""Checks the JWT that ACS Call Automation puts on its callbacks and media sockets.

``Authorization: Bearer <JWT>``, RS256, issued by ``acs.jwt_issuer`` for the
audience ``acs.resource_id`` (the resource's immutable id), signed by a key of
``acs.jwks_url``'s set (cached; refetched for an unknown key id). PyJWT with its
crypto extra is imported lazily: only a gateway serving ACS needs it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from switchboard.config import AcsSettings, ConfigError

log = logging.getLogger(__name__)

JWKS_TIMEOUT_SEC = 5


class JwtRejected(Exception):
    """The request carries no valid ACS token; the message says why (safe to return)."""


class AcsJwtVerifier:
    """Verifies ``Authorization`` headers; keys fetched off the event loop."""

    def __init__(self, settings: AcsSettings) -> None:
        try:
            import jwt
        except ImportError as exc:
            raise ConfigError(
                "the gateway's ACS endpoints need PyJWT[crypto]: "
                "pip install -r requirements-azure.txt"
            ) from exc
        self._jwt: Any = jwt
        self._settings = settings
        self._keys = jwt.PyJWKClient(settings.jwks_url, cache_keys=True, timeout=JWKS_TIMEOUT_SEC)

    async def verify(self, authorization: str | None) -> None:
        """Raises :class:`JwtRejected` unless ``authorization`` is a valid ACS bearer token."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise JwtRejected("a Bearer token from ACS is required")
        jwt = self._jwt
        try:
            key = await asyncio.to_thread(self._keys.get_signing_key_from_jwt, token)
            jwt.decode(
                token,
                key.key,
                algorithms=["RS256"],
                audience=self._settings.resource_id,
                issuer=self._settings.jwt_issuer,
                leeway=self._settings.jwt_leeway_sec,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.PyJWKClientConnectionError as exc:
            log.warning("ACS signing keys unavailable")
            raise JwtRejected("the ACS signing keys are unavailable") from exc
        except jwt.PyJWTError as exc:
            raise JwtRejected(f"the ACS token is not valid: {type(exc).__name__}") from exc
