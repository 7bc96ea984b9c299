"""The post-call report written by the slow model: synthesis, next action, SMS summary.

Each answer must be one JSON object matching its schema (asked for with the
endpoint's structured-output mode, then validated here); an invalid answer goes
back to the model with the validation error, at most ``summary_retries`` times.
A part that still fails, or a call without conversation, gets the deterministic
report's version of that part: the report is always complete.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from abc import ABC, abstractmethod
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, Field, ValidationError

from switchboard.config import LlmSettings
from switchboard.domain import NEXT_ACTIONS, Call, MessageAction, NextAction, Persona, Synthesis
from switchboard_brain import prompts
from switchboard_brain.llm.base import ChatMessage, ChatModel, ChatRequest, JsonSchema, ModelError
from switchboard_brain.summary import PostCallReport, signals, summarize

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)
_FENCE_RE = re.compile(r"^```(?:json)?\s*|\s*```$")
_MAX_TRANSCRIPT_MESSAGES = 60
SUMMARY_MAX_TOKENS = 400

NextActionName = Literal[
    "call_again",
    "case_closed",
    "commercial_offer",
    "customer_will_send_info",
    "high_priority",
    "propose_new_contract",
    "requires_expertise",
]


class SynthesisAnswer(BaseModel):
    short: str = Field(min_length=1, max_length=200)
    long: str = Field(min_length=1, max_length=2000)
    satisfaction: Literal["terrible", "low", "partial", "high", "unknown"]
    improvement_suggestions: str = Field(max_length=2000)


class NextActionAnswer(BaseModel):
    action: NextActionName
    justification: str = Field(min_length=1, max_length=1000)


class SmsAnswer(BaseModel):
    sms: str = Field(min_length=1, max_length=480)


class Summarizer(ABC):
    """Writes the report of a finished call."""

    @abstractmethod
    async def summarize(self, call: Call) -> PostCallReport: ...


class RuleSummarizer(Summarizer):
    """The deterministic report (the ``form`` policy's)."""

    async def summarize(self, call: Call) -> PostCallReport:
        return summarize(call)


def transcript(call: Call) -> list[ChatMessage]:
    talk = [
        ChatMessage("user" if m.persona is Persona.HUMAN else "assistant", m.content)
        for m in call.messages
        if m.action in (MessageAction.TALK, MessageAction.DTMF)
        and m.persona in (Persona.HUMAN, Persona.ASSISTANT)
        and m.content
    ]
    return talk[-_MAX_TRANSCRIPT_MESSAGES:]


def parse_answer(text: str, model: type[M]) -> M:
    """The answer as ``model``; ``ValueError`` saying what is wrong."""
    cleaned = _FENCE_RE.sub("", text.strip())
    try:
        return model.model_validate(json.loads(cleaned))
    except json.JSONDecodeError as exc:
        raise ValueError(f"not a JSON object ({exc.msg})") from exc
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ValueError(problems) from exc


class LlmSummarizer(Summarizer):
    """Three concurrent, schema-validated questions to the (slow) model."""

    def __init__(self, model: ChatModel, settings: LlmSettings) -> None:
        self._model = model
        self._settings = settings

    async def summarize(self, call: Call) -> PostCallReport:
        rules = summarize(call)
        if not signals(call).talked:
            return rules  # nothing was said: the model would only invent
        values: dict[str, Any] = {
            "request": call.initiate,
            "claim_json": json.dumps(call.claim, ensure_ascii=False),
            "lang": call.current_lang,
        }
        synthesis, next_action, sms = await asyncio.gather(
            self._ask(call, "synthesis.jinja", SynthesisAnswer, values),
            self._ask(
                call,
                "next_action.jinja",
                NextActionAnswer,
                {**values, "actions": list(NEXT_ACTIONS)},
            ),
            self._ask(call, "sms_summary.jinja", SmsAnswer, values),
        )
        return PostCallReport(
            Synthesis(**synthesis.model_dump()) if synthesis else rules.synthesis,
            NextAction(**next_action.model_dump()) if next_action else rules.next_action,
            sms.sms if sms else rules.sms_summary,
        )

    async def _ask(
        self, call: Call, template: str, answer: type[M], values: dict[str, Any]
    ) -> M | None:
        try:
            async with asyncio.timeout(self._settings.summary_timeout_sec):
                return await self._ask_until_valid(call, template, answer, values)
        except TimeoutError:
            log.warning(
                "post-call answer too slow, using the rules",
                extra={"call_id": call.call_id, "part": answer.__name__},
            )
            return None

    async def _ask_until_valid(
        self, call: Call, template: str, answer: type[M], values: dict[str, Any]
    ) -> M | None:
        schema = answer.model_json_schema()
        system = prompts.render(template, schema_json=json.dumps(schema), **values)
        messages = [ChatMessage("system", system), *transcript(call)]
        messages.append(ChatMessage("user", "Write the JSON object now."))
        for attempt in range(self._settings.summary_retries):
            request = ChatRequest(
                messages=list(messages),
                max_tokens=SUMMARY_MAX_TOKENS,
                temperature=self._settings.temperature,
                seed=self._settings.seed,
                json_schema=JsonSchema(answer.__name__, schema),
            )
            try:
                result = await self._model.complete(request)
                return parse_answer(result.text, answer)
            except ModelError as exc:
                log.warning(
                    "post-call model call failed",
                    extra={"call_id": call.call_id, "part": answer.__name__, "error": exc.message},
                )
                return None
            except ValueError as exc:
                log.info(
                    "post-call answer invalid, asking again",
                    extra={"call_id": call.call_id, "part": answer.__name__, "try": attempt + 1},
                )
                messages += [
                    ChatMessage("assistant", result.text),
                    ChatMessage("user", f"A validation error occurred, please retry: {exc}"),
                ]
        return None
