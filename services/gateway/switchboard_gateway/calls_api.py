"""The JSON API: place a call, read one, list a number's calls."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, Query, Request

from switchboard_gateway.auth import require_api_key
from switchboard_gateway.params import (
    MAX_LIST,
    Calls,
    call_id_of,
    known_query_only,
    phone_filter_of,
    report_url,
)
from switchboard_gateway.problems import error_responses
from switchboard_gateway.request_model import CallInitiate
from switchboard_gateway.views import CallView, call_view

log = logging.getLogger(__name__)


router = APIRouter(
    tags=["calls"], dependencies=[Depends(require_api_key), Depends(known_query_only)]
)


@router.post(
    "/call",
    status_code=201,
    summary="Place an outbound call",
    responses=error_responses(400, 409, 413, 415, 422, 429, 503),
)
async def place_call(body: CallInitiate, request: Request, calls: Calls) -> CallView:
    """Dials ``phone_number``, or resumes its open call when the same request comes back
    inside the callback window. Returns once dialling has started."""
    call = await calls.place_call(body.to_domain())
    log.info(
        "call placed",
        extra={
            "call_id": call.call_id,
            "state": call.state.value,
            "claim_fields": len(body.claim),
            "pii_phone_number": body.phone_number,
        },
    )
    return call_view(call, report_url(request, call.call_id))


@router.get("/call/{call_id}", summary="Read a call", responses=error_responses(404, 422, 503))
async def get_call(call_id: str, request: Request, calls: Calls) -> CallView:
    """The call with its transcript, claim, reminders and outcome."""
    call = await calls.get_call(call_id_of(call_id))
    return call_view(call, report_url(request, call.call_id))


@router.get("/call", summary="List calls", responses=error_responses(422, 503))
async def list_calls(
    request: Request,
    calls: Calls,
    phone_number: str | None = Query(None, description="E.164; URL-encode the '+' as %2B"),
) -> list[CallView]:
    """The newest calls first (at most 100), of one number when ``phone_number`` is given.
    Transcripts are left out; read a call for its messages."""
    found, _total = await calls.list_calls(phone_filter_of(phone_number), MAX_LIST)
    return [call_view(c, report_url(request, c.call_id)) for c in found]
