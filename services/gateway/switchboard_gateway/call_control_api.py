"""Controlling a live call: hang it up (or cancel it while it rings), transfer it.

Both answer 202 with the call as it is now: the dialer acts at once, the state follows
a moment later (``GET /call/{call_id}``). A call that is over is a 409, as is a transfer
of a call that is not connected.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator

from switchboard.domain import Call, CallState
from switchboard.phones import E164_EXAMPLE
from switchboard_gateway.auth import require_api_key
from switchboard_gateway.backend import CallBackend
from switchboard_gateway.params import Calls, call_id_of, known_query_only, report_url
from switchboard_gateway.problems import ApiError, error_responses
from switchboard_gateway.request_model import e164
from switchboard_gateway.views import CallView, call_view

log = logging.getLogger(__name__)

HANGUP_REASON = "api_hangup"

router = APIRouter(
    tags=["call control"],
    dependencies=[Depends(require_api_key), Depends(known_query_only)],
)


class TransferIn(BaseModel):
    """Where to transfer the call."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    target: str | None = Field(
        None,
        description="E.164; the call's agent_phone_number when omitted",
        examples=[E164_EXAMPLE],
    )

    @field_validator("target")
    @classmethod
    def _is_e164(cls, value: str | None) -> str | None:
        return e164(value) if value is not None else None


async def _open_call(calls: CallBackend, call_id: str) -> Call:
    """The call, or 404; 409 when it is over."""
    call = await calls.get_call(call_id_of(call_id))
    if call.state.is_terminal:
        raise ApiError(409, f"the call is already over ({call.state.value})")
    return call


@router.post(
    "/call/{call_id}/hangup",
    status_code=202,
    summary="Hang up or cancel a call",
    responses=error_responses(400, 404, 409, 413, 415, 422, 503),
)
async def hang_up(call_id: str, request: Request, calls: Calls) -> CallView:
    """Ends a connected call, or cancels one that is still dialling or ringing. The call
    ends with reason ``api_hangup``; its report and webhook follow as for any ending."""
    call = await _open_call(calls, call_id)
    if not await calls.hang_up(call, HANGUP_REASON):
        call = await calls.get_call(call.call_id)
        if call.state.is_terminal:
            raise ApiError(409, f"the call is already over ({call.state.value})")
        raise ApiError(409, "no dialer runs this call any more; it cannot be hung up")
    log.info("call hung up over the API", extra={"call_id": call.call_id})
    return call_view(await calls.get_call(call.call_id), report_url(request, call.call_id))


@router.post(
    "/call/{call_id}/transfer",
    status_code=202,
    summary="Transfer a call to a human",
    responses=error_responses(400, 404, 409, 413, 415, 422, 503),
)
async def transfer(
    call_id: str,
    request: Request,
    calls: Calls,
    body: Annotated[TransferIn | None, Body()] = None,
) -> CallView:
    """Hands a connected call to ``target`` (the request's ``agent_phone_number`` when
    omitted): the bot says so and the carrier transfers the line."""
    call = await _open_call(calls, call_id)
    if call.state is not CallState.IN_PROGRESS:
        raise ApiError(409, f"only a connected call can be transferred; it is {call.state.value}")
    target = (body.target if body else None) or call.initiate.agent_phone_number
    if not await calls.transfer(call, target):
        raise ApiError(409, "the call is not connected on a dialer; it cannot be transferred")
    log.info("call transferred over the API", extra={"call_id": call.call_id, "pii_target": target})
    return call_view(await calls.get_call(call.call_id), report_url(request, call.call_id))
