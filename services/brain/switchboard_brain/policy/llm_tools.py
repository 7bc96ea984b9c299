"""The llm policy's tools: their schemas, and running a call the model made.

A call the model got wrong (unknown name, arguments that are not JSON or do not fit
the schema, a value the store rejects) is answered with an error text the model
reads on its next round; the conversation goes on.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from switchboard.domain import CallRequest, ChunkHit, Reminder
from switchboard.dtmf import MAX_DIGITS, is_dtmf
from switchboard.errors import SwitchboardError
from switchboard.languages import served_lang
from switchboard_brain import phrases, prompts
from switchboard_brain.llm.base import ModelToolCall, ToolSpec, arguments_of
from switchboard_brain.llm.sentences import clean_sentence
from switchboard_brain.policy.base import (
    Action,
    ChangeSpeech,
    EndCall,
    PressKeys,
    ReplyPart,
    SendSms,
    Transfer,
    TurnContext,
)

MIN_RATE, MAX_RATE = 0.75, 1.25
_LANG_RE = re.compile(r"^[a-z]{2,3}(-[A-Z][A-Za-z]{1,3})?$")
_MAX_QUERIES = 3
_MAX_SMS = 480


class _Args(BaseModel):
    model_config = ConfigDict(extra="ignore")
    customer_response: str = ""


class _Update(BaseModel):
    field: str
    value: str


class ClaimArgs(_Args):
    updates: list[_Update] = Field(min_length=1)


class ReminderArgs(_Args):
    title: str = Field(min_length=1, max_length=120)
    description: str = ""
    due_date_time: datetime | None = None
    owner: str = ""


class SearchArgs(_Args):
    queries: list[str] = Field(min_length=1)


class SmsArgs(_Args):
    message: str = Field(min_length=1, max_length=_MAX_SMS)


class SpeedArgs(_Args):
    speed: float


class LangArgs(_Args):
    lang: str


class KeysArgs(_Args):
    digits: str

    @field_validator("digits")
    @classmethod
    def _touch_tones(cls, digits: str) -> str:
        if not is_dtmf(digits):
            raise ValueError(f"must be 1 to {MAX_DIGITS} of 0-9, *, #, A-D")
        return digits


_ARGS: dict[str, type[_Args]] = {
    "updated_claim": ClaimArgs,
    "new_or_updated_reminder": ReminderArgs,
    "search_documents": SearchArgs,
    "talk_to_human": _Args,
    "end_call": _Args,
    "send_sms": SmsArgs,
    "speech_speed": SpeedArgs,
    "speech_lang": LangArgs,
    "send_dtmf": KeysArgs,
}
# Tools that say nothing to the customer (hanging up; pressing a menu's keys).
_SILENT = frozenset({"end_call", "send_dtmf"})
# Tools whose confirmation is spoken after they ran (in the new voice or speed).
_CONFIRM_AFTER = frozenset({"speech_speed", "speech_lang"})
_DEFAULT_CONFIRMATION = {
    "updated_claim": "I'm noting that.",
    "new_or_updated_reminder": "I'm setting a reminder.",
    "search_documents": "Let me check that for you.",
    "talk_to_human": "I'll connect you with a colleague now, please stay on the line.",
    "send_sms": "I'm sending you a text message.",
    "speech_speed": "Is this better?",
    "speech_lang": "Of course.",
}


def _string(description: str = "") -> dict[str, Any]:
    return {"type": "string", "description": description} if description else {"type": "string"}


def _schema(request: CallRequest, name: str) -> dict[str, Any]:
    props: dict[str, Any]
    required: list[str]
    match name:
        case "updated_claim":
            fields = [f.name for f in request.claim] or ["note"]
            props = {
                "updates": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "field": {"type": "string", "enum": fields},
                            "value": {"type": "string"},
                        },
                        "required": ["field", "value"],
                    },
                }
            }
            required = ["updates"]
        case "new_or_updated_reminder":
            props = {
                "title": _string("Verb and subject, unique"),
                "description": _string(),
                "due_date_time": _string("ISO 8601 with UTC offset, in the future"),
                "owner": _string("Who does it: the customer, an agent, a team"),
            }
            required = ["title", "description", "due_date_time", "owner"]
        case "search_documents":
            props = {"queries": {"type": "array", "items": {"type": "string"}}}
            required = ["queries"]
        case "send_sms":
            props = {"message": _string("The text, in the customer's language")}
            required = ["message"]
        case "speech_speed":
            props = {"speed": {"type": "number", "minimum": MIN_RATE, "maximum": MAX_RATE}}
            required = ["speed"]
        case "speech_lang":
            props = {"lang": _string("BCP 47 code, e.g. fr-FR")}
            required = ["lang"]
        case "send_dtmf":
            props = {
                "digits": {
                    "type": "string",
                    "pattern": f"^[0-9*#A-D]{{1,{MAX_DIGITS}}}$",
                    "description": "The keys, in order, e.g. 1 or 2#",
                }
            }
            required = ["digits"]
        case _:
            props, required = {}, []
    if name not in _SILENT:
        props["customer_response"] = _string(
            prompts.tool_descriptions()["customer_response"].render(request=request)
        )
        required = [*required, "customer_response"]
    return {"type": "object", "properties": props, "required": required}


def tool_specs(
    request: CallRequest, greeting: bool = False, sends_dtmf: bool = False
) -> list[ToolSpec]:
    """The tools offered for a call; the same on every turn, whatever the caller says.
    ``end_call`` is not offered on a welcome back (models hang up on a resumed call);
    ``send_dtmf`` only when the line can press keys and the task is about a phone menu
    (every tool offered is one more a small model may pick by mistake)."""
    return list(_tool_specs(request, greeting, sends_dtmf and navigates_menus(request)))


def navigates_menus(request: CallRequest) -> bool:
    """Whether the task asks the bot to get through a phone menu (press, key, menu, IVR)."""
    return bool(_MENU_WORDS.search(request.task))


_MENU_WORDS = re.compile(r"\b(menu|press|keypad|key|keys|ivr|extension|dtmf)\b", re.IGNORECASE)


@lru_cache(maxsize=512)
def _tool_specs(request: CallRequest, greeting: bool, keys: bool) -> tuple[ToolSpec, ...]:
    descriptions = prompts.tool_descriptions()
    return tuple(
        ToolSpec(name, descriptions[name].render(request=request), _schema(request, name))
        for name in _ARGS
        if not (greeting and name == "end_call") and (keys or name != "send_dtmf")
    )


@dataclass
class ToolOutcome:
    """What running one call produced: its result text for the model, what to say before
    and after it, parts for the dialer, and an action that ends the turn."""

    call: ModelToolCall
    result: str = ""
    before: str = ""
    after: str = ""
    parts: list[ReplyPart] = field(default_factory=list)
    action: Action | None = None
    prosody_rate: float | None = None


def prepare(call: ModelToolCall) -> tuple[ToolOutcome, _Args | None]:
    """Parses a call; an outcome with an error result when it cannot run."""
    outcome = ToolOutcome(call)
    model = _ARGS.get(call.name)
    if model is None:
        outcome.result = (
            f"Error: there is no tool named {call.name!r}. Use only: {', '.join(_ARGS)}."
        )
        return outcome, None
    try:
        args = model.model_validate(arguments_of(call))
    except ValueError as exc:
        detail = (
            "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            if isinstance(exc, ValidationError)
            else str(exc)
        )
        outcome.result = f"Error: invalid arguments for {call.name}: {detail}. Call it again."
        return outcome, None
    confirmation = clean_sentence(args.customer_response)
    if not any(ch.isalpha() for ch in confirmation):  # small models write "{" here
        confirmation = _DEFAULT_CONFIRMATION.get(call.name, "")
    if call.name in _CONFIRM_AFTER:
        outcome.after = confirmation
    else:
        outcome.before = confirmation
    return outcome, args


def _hits_json(hits: list[ChunkHit]) -> str:
    return json.dumps(
        [
            {"title": h.title, "source": h.source, "score": round(h.score, 3), "content": h.content}
            for h in hits
        ],
        ensure_ascii=False,
    )


async def run(ctx: TurnContext, outcome: ToolOutcome, args: _Args, rate: float) -> ToolOutcome:
    """Runs a prepared call; store errors become result text, never exceptions."""
    request = ctx.call.initiate
    match args:
        case ClaimArgs(updates=updates):
            saved: dict[str, str] = {}
            rejected: list[dict[str, str]] = []
            for update in updates:  # one by one: a bad value must not drop the good ones
                try:
                    saved[update.field] = await ctx.update_claim(update.field, update.value)
                except SwitchboardError as exc:
                    rejected.append(
                        {"field": update.field, "value": update.value, "reason": exc.message}
                    )
            outcome.result = json.dumps({"saved": saved, "rejected": rejected}, ensure_ascii=False)
        case ReminderArgs():
            if ctx.save_reminder is None:
                outcome.result = "Error: reminders are not available in this call."
            else:
                try:
                    stored = await ctx.save_reminder(
                        Reminder(
                            title=args.title,
                            description=args.description,
                            due_at=args.due_date_time,
                            owner=args.owner,
                        )
                    )
                    outcome.result = f"Reminder {stored.title!r} saved."
                except SwitchboardError as exc:
                    outcome.result = f"Error: the reminder was not saved: {exc.message}"
        case SearchArgs(queries=queries):
            outcome.result = await _search(ctx, queries[:_MAX_QUERIES])
        case SmsArgs() if not request.phone_number:
            outcome.result = "Error: the caller's number is withheld, so no SMS can be sent."
        case SmsArgs(message=message):
            outcome.parts.append(SendSms(request.phone_number, message))
            outcome.result = (
                "The SMS is being sent."
                if ctx.sms_delivers
                else "The SMS was NOT sent: this deployment only records text messages for "
                "the team. Do not tell the customer they will receive one."
            )
        case SpeedArgs(speed=speed):
            rate = min(MAX_RATE, max(MIN_RATE, speed))
            outcome.prosody_rate = rate
            outcome.parts.append(ChangeSpeech(ctx.call.current_lang, rate))
            outcome.result = f"Speech speed set to {rate}."
        case LangArgs(lang=lang):
            served = served_lang(lang, ctx.languages) if _LANG_RE.match(lang) else None
            current = ctx.call.current_lang
            if not _LANG_RE.match(lang):
                outcome.after = ""
                outcome.result = f"Error: {lang!r} is not a BCP 47 language code like fr-FR."
            elif served is None:
                # The call goes on as it was: the caller hears why, in their language.
                outcome.after = phrases.get("lang_unavailable", current)
                outcome.result = (
                    f"Error: this line cannot speak {lang}; it speaks "
                    f"{', '.join(ctx.languages)}. Go on in {current}."
                )
            else:
                if ctx.set_language is not None:
                    await ctx.set_language(served)
                outcome.parts.append(ChangeSpeech(served, rate))
                outcome.result = f"Language set to {served}; speak {served} from now on."
        case KeysArgs() if not ctx.sends_dtmf:
            outcome.result = (
                "Error: this phone line cannot send touch tones. Say the choice out loud "
                "instead, if the menu accepts speech."
            )
        case KeysArgs(digits=digits):
            outcome.parts.append(PressKeys(digits))
            outcome.result = f"The keys {digits} are pressed once your sentence is said."
        case _ if outcome.call.name == "talk_to_human" and not request.agent_phone_number:
            outcome.result = (
                "Error: no colleague can take calls on this line. Say so, and offer to take "
                "a message so that someone calls back."
            )
        case _ if outcome.call.name == "talk_to_human":
            outcome.action = Transfer(request.agent_phone_number)
            outcome.result = "The transfer starts after your sentence."
        case _ if outcome.call.name == "end_call":
            outcome.action = EndCall("agent_end_call")
            outcome.result = "The call ends after your sentence."
    return outcome


async def _search(ctx: TurnContext, queries: list[str]) -> str:
    if ctx.search_documents is None:
        return "No documentation is available; say you do not know."
    search = ctx.search_documents
    try:
        found = await asyncio.gather(*(search(q) for q in queries))
    except SwitchboardError as exc:
        return f"Error: the search failed ({exc.message}); say you do not know."
    best: dict[str, ChunkHit] = {}
    for hits in found:
        for hit in hits:
            if hit.id not in best or hit.score > best[hit.id].score:
                best[hit.id] = hit
    ranked = sorted(best.values(), key=lambda h: h.score, reverse=True)
    if not ranked:
        return "Nothing relevant found; say you do not know."
    return "# Search results\n<documents>" + _hits_json(ranked) + "</documents>"
