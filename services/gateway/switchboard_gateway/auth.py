"""API keys.

Every endpoint but ``/health/*`` needs ``Authorization: Bearer <key>``; a key is
one of ``gateway.api_keys``. A missing or wrong key is a 401 with
``WWW-Authenticate: Bearer`` (RFC 6750: an unknown token is ``invalid_token``,
still 401). With no keys configured every request is refused: the gateway
fails closed.

Browsers cannot send a header from a link, so the report pages and ``/docs``
also accept a session cookie. Opening any of them once with ``?key=<key>``
sets that cookie (HttpOnly, SameSite=Strict, Secure behind HTTPS) and redirects
to the same URL without the key, so the key does not stay in the address bar or
history. The cookie holds when it was issued and an HMAC of that time under the
key, never the key: it expires after ``SESSION_MAX_AGE_SEC``, is reissued once it
is half that old, and dies with its key when the key is rotated out.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Sequence
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request, WebSocket
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from switchboard_gateway.problems import ApiError
from switchboard_gateway.webhook_signing import client_id

SESSION_COOKIE = "switchboard_session"
SESSION_MAX_AGE_SEC = 12 * 3600
_SESSION_VERSION = "v2"
_SESSION_CONTEXT = b"switchboard-gateway browser session v2"

bearer = HTTPBearer(auto_error=False, description="An API key from gateway.api_keys")


class ApiKeys:
    """The accepted keys; every comparison is constant-time and checks every key.

    ``clock`` (seconds since the epoch) dates and checks browser sessions.
    """

    def __init__(self, keys: Sequence[str], clock: Callable[[], float] = time.time) -> None:
        self._keys = [k.encode() for k in keys if k]
        self._clock = clock

    @property
    def configured(self) -> bool:
        return bool(self._keys)

    def accepts(self, candidate: str) -> bool:
        given = candidate.encode()
        return _any_equal(given, self._keys)

    def session_token(self, key: str) -> str:
        """A fresh cookie value for a browser that proved it knows ``key``."""
        issued = str(int(self._clock()))
        return f"{_SESSION_VERSION}.{issued}.{_session_mac(key.encode(), issued)}"

    def session_age(self, token: str) -> float | None:
        """Seconds since a valid session token was issued; None when it is not valid
        (forged, expired, dated in the future, or signed with a key no longer accepted)."""
        version, _, rest = token.partition(".")
        issued, _, mac = rest.partition(".")
        if version != _SESSION_VERSION or not (issued.isascii() and issued.isdigit()):
            return None
        age = self._clock() - int(issued)
        expected = [_session_mac(k, issued).encode() for k in self._keys]
        if not _any_equal(mac.encode(), expected) or not 0 <= age < SESSION_MAX_AGE_SEC:
            return None
        return age

    def key_of_session(self, token: str) -> str | None:
        """The key a valid session token was signed with (to reissue it); None otherwise."""
        if self.session_age(token) is None:
            return None
        _version, _, rest = token.partition(".")
        issued, _, mac = rest.partition(".")
        for key in self._keys:
            if hmac.compare_digest(mac.encode(), _session_mac(key, issued).encode()):
                return key.decode()
        return None

    def accepts_session(self, token: str) -> bool:
        return self.session_age(token) is not None

    def session_needs_renewal(self, token: str) -> bool:
        """A valid session past half its life: the gateway sets a fresh cookie."""
        age = self.session_age(token)
        return age is not None and age >= SESSION_MAX_AGE_SEC / 2


def _session_mac(key: bytes, issued: str) -> str:
    return hmac.new(key, _SESSION_CONTEXT + b"|" + issued.encode(), hashlib.sha256).hexdigest()


def _any_equal(given: bytes, candidates: Sequence[bytes]) -> bool:
    # No short-circuit: the time taken does not depend on which key matched.
    matched = False
    for candidate in candidates:
        matched |= hmac.compare_digest(given, candidate)
    return matched


def unauthorized(message: str, error: str = "") -> ApiError:
    challenge = f'Bearer error="{error}"' if error else "Bearer"
    return ApiError(401, message, headers={"WWW-Authenticate": challenge})


def _keys(request: Request) -> ApiKeys:
    keys = request.app.state.api_keys
    assert isinstance(keys, ApiKeys)
    if not keys.configured:
        raise unauthorized(
            "the gateway has no API keys configured; set SWITCHBOARD__GATEWAY__API_KEYS"
        )
    return keys


def _check_bearer(keys: ApiKeys, credentials: HTTPAuthorizationCredentials | None) -> None:
    if credentials is None:
        raise unauthorized("an API key is required: send Authorization: Bearer <key>")
    if not keys.accepts(credentials.credentials):
        raise unauthorized("the API key is not valid", error="invalid_token")


Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


async def require_api_key(request: Request, credentials: Credentials) -> None:
    """Dependency of the JSON API: a valid Bearer key."""
    _check_bearer(_keys(request), credentials)


async def api_client(credentials: Credentials) -> str:
    """The client a JSON API request comes from: the id of its API key (checked by
    :func:`require_api_key` first), never the key itself."""
    if credentials is None:
        raise unauthorized("an API key is required: send Authorization: Bearer <key>")
    return client_id(credentials.credentials)


async def require_browser_session(request: Request, credentials: Credentials) -> None:
    """Dependency of the HTML pages and docs: a Bearer key, or the session cookie."""
    keys = _keys(request)
    cookie = request.cookies.get(SESSION_COOKIE)
    if credentials is None and cookie is not None and keys.accepts_session(cookie):
        return
    if credentials is None:
        raise unauthorized(
            "an API key is required: open this page once with ?key=<key>, "
            "or send Authorization: Bearer <key>"
        )
    _check_bearer(keys, credentials)


def websocket_refusal(keys: ApiKeys, socket: WebSocket) -> str:
    """Why a WebSocket may not connect ("" when it may).

    It needs what a page needs: the session cookie, ``?key=`` or a Bearer key;
    and, when a browser sends an ``Origin``, the gateway's own origin, so another
    site cannot open a softphone with the user's cookie.
    """
    if not keys.configured:
        return "the gateway has no API keys configured"
    origin = socket.headers.get("origin")
    if origin is not None and urlsplit(origin).netloc != socket.headers.get("host", ""):
        return "cross-origin WebSocket connections are refused"
    cookie = socket.cookies.get(SESSION_COOKIE)
    if cookie is not None and keys.accepts_session(cookie):
        return ""
    key = socket.query_params.get("key")
    scheme, _, token = socket.headers.get("authorization", "").partition(" ")
    if key is None and scheme.lower() == "bearer":
        key = token.strip()
    if key is None:
        return "an API key is required: open /softphone?key=<key> once, or pass ?key="
    return "" if keys.accepts(key) else "the API key is not valid"
