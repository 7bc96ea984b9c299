"""The HTML pages: one call's report, and the list of calls."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from switchboard import domain
from switchboard.errors import SwitchboardError
from switchboard_gateway.auth import require_browser_session
from switchboard_gateway.pages import render
from switchboard_gateway.params import (
    MAX_LIST,
    Calls,
    call_id_of,
    known_query_only,
    phone_filter_of,
)
from switchboard_gateway.problems import ApiError, error_responses
from switchboard_gateway.recordings_api import Blobs, listed
from switchboard_gateway.report_views import REFRESH_SEC, Paging, TimelineEntry, timeline

log = logging.getLogger(__name__)

# The deepest page of the calls list (a million calls back), so an offset stays small.
MAX_PAGE = 10_000

router = APIRouter(
    tags=["reports"],
    dependencies=[Depends(require_browser_session), Depends(known_query_only)],
    default_response_class=HTMLResponse,
    responses=error_responses(422, 429, 503, html=True),
)


def claim_rows(call: domain.Call) -> list[tuple[str, str, str, str]]:
    """(name, type, description, value) for each schema field, then any value outside it."""
    rows = [
        (f.name, f.type.value, f.description, call.claim.get(f.name, ""))
        for f in call.initiate.claim
    ]
    known = {f.name for f in call.initiate.claim}
    rows += [
        (name, "", "", value) for name, value in sorted(call.claim.items()) if name not in known
    ]
    return rows


@router.get(
    "/report/{call_id}", summary="A call's report (HTML)", responses=error_responses(404, html=True)
)
async def report(call_id: str, calls: Calls, blobs: Blobs) -> HTMLResponse:
    """Transcript (with the bot's tool calls), claim, reminders, synthesis, next action and
    timeline of one call, and its recordings when it was recorded. While the call is not
    over, the page reloads itself every few seconds."""
    call = await calls.get_call(call_id_of(call_id))
    try:
        recordings = await listed(blobs, call.call_id)
        reachable = True
    except ApiError:  # the report is still worth showing without its recording
        recordings, reachable = [], False
    try:
        events: list[TimelineEntry] | None = timeline(await calls.call_events(call.call_id))
    except SwitchboardError as exc:  # nor is it worthless without its timeline
        log.warning(
            "call events not read", extra={"call_id": call.call_id, "error": type(exc).__name__}
        )
        events = None
    return HTMLResponse(
        render(
            "report.html.jinja",
            call=call,
            claim_rows=claim_rows(call),
            recordings=recordings,
            recordings_reachable=reachable,
            timeline=events,
            refresh_sec=None if call.state.is_terminal else REFRESH_SEC,
        )
    )


@router.get("/report", summary="Calls (HTML)")
async def report_list(
    request: Request,
    calls: Calls,
    phone_number: str | None = Query(None, description="E.164; URL-encode the '+' as %2B"),
    page: int = Query(
        1,
        ge=1,
        le=MAX_PAGE,
        description=f"1 for the newest {MAX_LIST} calls, 2 for the {MAX_LIST} before them, …",
    ),
) -> HTMLResponse:
    """The calls newest first, 100 a page, of one number when ``phone_number`` is given."""
    number = phone_filter_of(phone_number)
    found, total = await calls.list_calls(number, MAX_LIST, offset=(page - 1) * MAX_LIST)
    paging = Paging(page, MAX_LIST, len(found), total, number)
    return HTMLResponse(
        render("list.html.jinja", calls=found, total=total, phone_number=number, paging=paging)
    )
