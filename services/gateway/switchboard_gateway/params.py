"""Path and query parameters shared by the API and the pages, checked with readable errors."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant

from switchboard.domain import CallState
from switchboard.phones import E164_EXAMPLE
from switchboard_gateway.backend import CallBackend
from switchboard_gateway.problems import ApiError
from switchboard_gateway.request_model import e164

MAX_LIST = 100
LIVE = "live"
# A call not over yet: the dialer may still hang it up.
LIVE_STATES = tuple(s for s in CallState if not s.is_terminal)
STATE_FILTERS = (LIVE, *(s.value for s in CallState))


def call_id_of(value: str) -> str:
    """The canonical form of a call id; 422 when it is not a UUID."""
    try:
        return str(uuid.UUID(value))
    except ValueError as exc:
        raise ApiError(
            422, "call_id must be a UUID, e.g. 3f2b8c9e-6d1a-4c5e-9b7f-0a1d2e3f4a5b"
        ) from exc


def phone_filter_of(value: str | None) -> str:
    """An optional E.164 filter; empty when absent; 422 when it is not a number.

    An unencoded ``+`` in a query string arrives as a space, so a leading space
    followed by digits is read as ``+``.
    """
    if value is None or not value.strip():
        return ""
    text = "+" + value.lstrip() if value.startswith(" ") else value
    try:
        return e164(text)
    except ValueError as exc:
        raise ApiError(
            422,
            f"phone_number {exc} (URL-encode the '+' as %2B, e.g. %2B{E164_EXAMPLE[1:]})",
        ) from exc


def states_of(value: str | None) -> tuple[CallState, ...]:
    """The states a ``?state=`` filter keeps: ``live`` is every state not over; none
    when absent; 422 for a word that is not a state."""
    if value is None:
        return ()
    if value == LIVE:
        return LIVE_STATES
    try:
        return (CallState(value),)
    except ValueError as exc:
        raise ApiError(422, f"state must be one of {', '.join(STATE_FILTERS)}") from exc


def _backend(request: Request) -> CallBackend:
    backend: CallBackend = request.app.state.calls
    return backend


Calls = Annotated[CallBackend, Depends(_backend)]


def report_url(request: Request, call_id: str) -> str:
    """Where a browser finds the call's report: ``gateway.public_url``, else this request's host."""
    base = request.app.state.settings.gateway.public_url or str(request.base_url)
    return f"{str(base).rstrip('/')}/report/{call_id}"


async def known_query_only(request: Request) -> None:
    """Dependency of the JSON API: a query parameter the endpoint does not take is a 422
    (``?phone=`` instead of ``?phone_number=`` would otherwise list every call)."""
    dependant = getattr(request.scope.get("route"), "dependant", None)
    if dependant is None:
        return
    known = _query_names(dependant)
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        takes = f"it takes {', '.join(sorted(known))}" if known else "it takes none"
        raise ApiError(422, f"unknown query parameter {unknown[0]!r}; {takes}")
    # Every parameter takes one value: ``?x=1&x=2`` would silently use the last one.
    repeated = sorted(n for n in known if len(request.query_params.getlist(n)) > 1)
    if repeated:
        raise ApiError(422, f"query parameter {repeated[0]!r} is given more than once")


def _query_names(dependant: Dependant) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names
