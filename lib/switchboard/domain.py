"""The domain vocabulary every service shares, free of generated protobuf code.

Servicers convert between these and the wire types with :mod:`switchboard.convert`.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class ClaimFieldType(StrEnum):
    TEXT = "text"
    DATETIME = "datetime"
    EMAIL = "email"
    PHONE_NUMBER = "phone_number"


class ClaimField(BaseModel):
    """One field of the data the bot must collect."""

    model_config = ConfigDict(frozen=True)

    name: str
    type: ClaimFieldType
    description: str = ""


class LangOption(BaseModel):
    """A language the call may be held in, with its voice (the reference's ``availables``)."""

    model_config = ConfigDict(frozen=True)

    short_code: str
    voice: str = ""
    pronunciations_en: tuple[str, ...] = ()
    custom_voice_endpoint_id: str = ""


class CallRequest(BaseModel):
    """Who the bot is, whom it talks to, why, and what to collect."""

    model_config = ConfigDict(frozen=True)

    bot_company: str
    bot_name: str
    phone_number: str
    agent_phone_number: str
    task: str
    claim: tuple[ClaimField, ...] = ()
    lang: str = "en-US"
    prosody_rate: float = 1.0
    timezone: str = ""
    voice: str = ""
    langs: tuple[LangOption, ...] = ()

    def field(self, name: str) -> ClaimField | None:
        return next((f for f in self.claim if f.name == name), None)

    def voice_for(self, lang: str) -> str:
        """The voice asked for ``lang``: its ``langs`` entry's, else ``voice`` for the
        request's own language; empty (the provider's default) otherwise."""
        option = next((o for o in self.langs if o.short_code == lang), None)
        if option is not None and option.voice:
            return option.voice
        return self.voice if lang == self.lang else ""


class CallDirection(StrEnum):
    OUTBOUND = "outbound"
    INBOUND = "inbound"


class CallState(StrEnum):
    CREATED = "created"
    DIALING = "dialing"
    RINGING = "ringing"
    IN_PROGRESS = "in_progress"
    TRANSFERRING = "transferring"
    ENDED = "ended"
    FAILED = "failed"

    @property
    def is_terminal(self) -> bool:
        return self in (CallState.ENDED, CallState.FAILED)


class Persona(StrEnum):
    HUMAN = "human"
    ASSISTANT = "assistant"
    TOOL = "tool"


class MessageAction(StrEnum):
    TALK = "talk"
    CALL = "call"
    HANGUP = "hangup"
    SMS = "sms"
    DTMF = "dtmf"
    TRANSFER = "transfer"


class ToolCall(BaseModel):
    tool_id: str
    name: str
    arguments_json: str = ""
    result: str = ""


class Message(BaseModel):
    """One entry of the transcript; ``seq`` is assigned by the store."""

    persona: Persona
    content: str = ""
    action: MessageAction = MessageAction.TALK
    seq: int = 0
    created_at: datetime | None = None
    lang: str = ""
    turn_id: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    interrupted: bool = False


class Reminder(BaseModel):
    title: str
    description: str = ""
    due_at: datetime | None = None
    owner: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None


class Synthesis(BaseModel):
    short: str = ""
    long: str = ""
    satisfaction: str = "unknown"
    improvement_suggestions: str = ""


# The end reason of an outbound call an answering machine took (the bot left a message).
VOICEMAIL_REASON = "voicemail"

NEXT_ACTIONS = (
    "call_again",  # nobody was reached (an answering machine took a message)
    "case_closed",
    "commercial_offer",
    "customer_will_send_info",
    "high_priority",
    "propose_new_contract",
    "requires_expertise",
)


class NextAction(BaseModel):
    action: str
    justification: str = ""


class Call(BaseModel):
    """A conversation, as stored: request, state, transcript, claim and outcome."""

    call_id: str
    initiate: CallRequest
    direction: CallDirection = CallDirection.OUTBOUND
    state: CallState = CallState.CREATED
    state_reason: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None
    claim: dict[str, str] = Field(default_factory=dict)
    messages: list[Message] = Field(default_factory=list)
    reminders: list[Reminder] = Field(default_factory=list)
    synthesis: Synthesis | None = None
    next_action: NextAction | None = None
    sms_summary: str = ""
    lang: str = ""
    policy_state: str = ""
    last_interaction_at: datetime | None = None
    attempt: int = 1
    # The gRPC address of the dialer replica that runs the live call (from its lease);
    # "" when none holds it or the holder advertised none. Internal: never in the API.
    dialer_address: str = ""

    @property
    def current_lang(self) -> str:
        return self.lang or self.initiate.lang


class DocumentChunk(BaseModel):
    """A knowledge-base chunk with its embedding, as a client adds it."""

    id: str
    content: str
    embedding: list[float] = Field(default_factory=list)
    source: str = ""
    title: str = ""


class ChunkHit(BaseModel):
    """A knowledge-base chunk and how well it matched a query."""

    id: str
    source: str = ""
    title: str = ""
    content: str
    score: float = 0.0
