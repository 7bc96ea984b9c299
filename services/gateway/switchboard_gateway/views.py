"""The JSON shape of a call as the API returns it, built from the domain ``Call``."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from switchboard import domain

# "In progress" as in the reference: the line is connected (not dialling, not over).
_LIVE_STATES = frozenset({domain.CallState.IN_PROGRESS, domain.CallState.TRANSFERRING})


class ClaimFieldView(BaseModel):
    name: str
    type: domain.ClaimFieldType
    description: str


class InitiateView(BaseModel):
    """The request the call was placed with, after defaults and normalisation."""

    bot_company: str
    bot_name: str
    phone_number: str
    agent_phone_number: str
    task: str
    claim: list[ClaimFieldView]
    lang: str
    prosody_rate: float
    timezone: str
    voice: str


class MessageView(BaseModel):
    seq: int
    created_at: datetime | None
    persona: domain.Persona
    action: domain.MessageAction
    content: str
    lang: str
    interrupted: bool


class ReminderView(BaseModel):
    title: str
    description: str
    due_at: datetime | None
    owner: str
    created_at: datetime | None
    updated_at: datetime | None


class SynthesisView(BaseModel):
    short: str
    long: str
    satisfaction: str
    improvement_suggestions: str


class NextActionView(BaseModel):
    action: str
    justification: str


class CallView(BaseModel):
    """A call: request, state, transcript, claim and outcome."""

    call_id: str
    created_at: datetime | None
    updated_at: datetime | None
    direction: domain.CallDirection
    state: domain.CallState
    state_reason: str
    in_progress: bool
    initiate: InitiateView
    claim: dict[str, str]
    messages: list[MessageView]
    reminders: list[ReminderView]
    synthesis: SynthesisView | None
    next_action: NextActionView | None
    sms_summary: str
    lang: str
    report_url: str


def initiate_view(req: domain.CallRequest) -> InitiateView:
    return InitiateView(
        bot_company=req.bot_company,
        bot_name=req.bot_name,
        phone_number=req.phone_number,
        agent_phone_number=req.agent_phone_number,
        task=req.task,
        claim=[
            ClaimFieldView(name=f.name, type=f.type, description=f.description) for f in req.claim
        ],
        lang=req.lang,
        prosody_rate=req.prosody_rate,
        timezone=req.timezone,
        voice=req.voice,
    )


def call_view(call: domain.Call, report_url: str) -> CallView:
    """``call`` as the API shows it; tool calls and the policy state stay internal."""
    return CallView(
        call_id=call.call_id,
        created_at=call.created_at,
        updated_at=call.updated_at,
        direction=call.direction,
        state=call.state,
        state_reason=call.state_reason,
        in_progress=call.state in _LIVE_STATES,
        initiate=initiate_view(call.initiate),
        claim=dict(call.claim),
        messages=[
            MessageView(
                seq=m.seq,
                created_at=m.created_at,
                persona=m.persona,
                action=m.action,
                content=m.content,
                lang=m.lang,
                interrupted=m.interrupted,
            )
            for m in call.messages
        ],
        reminders=[ReminderView(**r.model_dump()) for r in call.reminders],
        synthesis=SynthesisView(**call.synthesis.model_dump()) if call.synthesis else None,
        next_action=NextActionView(**call.next_action.model_dump()) if call.next_action else None,
        sms_summary=call.sms_summary,
        lang=call.current_lang,
        report_url=report_url,
    )
