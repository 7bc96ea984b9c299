"""The JSON API: place a call, read one, list a number's calls."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response

from switchboard_gateway.auth import api_client, require_api_key
from switchboard_gateway.params import (
    MAX_LIST,
    STATE_FILTERS,
    Calls,
    call_id_of,
    known_query_only,
    phone_filter_of,
    report_url,
    states_of,
)
from switchboard_gateway.placing import IDEMPOTENCY_HEADER, REPLAYED_HEADER, place
from switchboard_gateway.problems import ApiError, error_responses
from switchboard_gateway.request_model import CallInitiate
from switchboard_gateway.views import CallView, call_view

log = logging.getLogger(__name__)

Client = Annotated[str, Depends(api_client)]


router = APIRouter(
    tags=["calls"], dependencies=[Depends(require_api_key), Depends(known_query_only)]
)


@router.post(
    "/call",
    status_code=201,
    summary="Place an outbound call",
    responses={
        200: {
            "model": CallView,
            "description": "A retry with the same Idempotency-Key and body: the call it placed",
            "headers": {REPLAYED_HEADER: {"schema": {"type": "string", "enum": ["true"]}}},
        },
        **error_responses(400, 409, 413, 415, 422, 429, 503),
    },
)
async def place_call(
    body: CallInitiate,
    request: Request,
    response: Response,
    calls: Calls,
    client: Client,
    idempotency_key: str | None = Header(
        None,
        alias=IDEMPOTENCY_HEADER,
        description=(
            "Any unique string (e.g. a UUID), at most 255 characters: a retry with the same "
            "key and body never dials again and gets the first call back (200)"
        ),
    ),
) -> CallView:
    """Dials ``phone_number``, or resumes its open call when the same request comes back
    inside the callback window. Returns once dialling has started. With
    ``callback_url``, the call's report is posted there, signed, once it ended."""
    served = request.app.state.settings.speech.languages
    unserved = body.unserved_langs(served)
    if unserved:
        raise ApiError(
            422,
            f"lang: {', '.join(unserved)} cannot be served on this deployment; "
            f"use one of {', '.join(served)}",
            [
                f"lang {lang} is not among speech.languages ({', '.join(served)})"
                for lang in unserved
            ],
        )
    settings = request.app.state.settings.gateway
    placed = await place(calls, body, client, idempotency_key, settings.webhooks.allow_hosts)
    call = placed.call
    if placed.replayed:
        response.status_code = 200
        response.headers[REPLAYED_HEADER] = "true"
    log.info(
        "call replayed" if placed.replayed else "call placed",
        extra={
            "call_id": call.call_id,
            "state": call.state.value,
            "claim_fields": len(body.claim),
            "webhook": body.callback_url is not None,
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
    state: str | None = Query(
        None,
        description=(
            "Only calls in this state; `live` for every call not over yet "
            "(created, dialing, ringing, in_progress, transferring)"
        ),
        json_schema_extra={"enum": list(STATE_FILTERS)},
    ),
) -> list[CallView]:
    """The newest calls first (at most 100), of one number when ``phone_number`` is given,
    in one state when ``state`` is. Transcripts are left out; read a call for its messages."""
    found, _total = await calls.list_calls(
        phone_filter_of(phone_number), MAX_LIST, states_of(state)
    )
    return [call_view(c, report_url(request, c.call_id)) for c in found]
