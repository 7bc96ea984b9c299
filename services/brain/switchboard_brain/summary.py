"""The post-call report, computed without a model: synthesis, next action, SMS summary.

Signals are simple and policy-agnostic (claim fields filled, transfer or end-call
actions kept on agent messages, interruptions), plus the form policy's per-field
retry counts when its state is there. The synthesis holds no personal details:
it names the fields collected, never their values.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from switchboard.domain import (
    VOICEMAIL_REASON,
    Call,
    MessageAction,
    NextAction,
    Persona,
    Synthesis,
)
from switchboard_brain.policy.phrases import label

_DETERMINERS = frozenset({"the", "a", "an", "this", "that"})
_POSSESSIVES = frozenset({"your", "my", "our", "their", "his", "her", "its"})
_GIST_WORDS = 10
_PEOPLE = tuple(
    p.split() for p in ("the customer", "the caller", "the client", "the user", "them", "you")
)
_SECOND_PERSON = {"their": "your", "theirs": "yours", "them": "you"}
_DANGLING = frozenset({"the", "a", "an", "of", "for", "in", "on", "at", "to", "and", "your"})
_CLAUSE_END_RE = re.compile(r"[.,;:!?(]")


@dataclass(frozen=True)
class PostCallReport:
    synthesis: Synthesis
    next_action: NextAction
    sms_summary: str


@dataclass(frozen=True)
class CallSignals:
    """What happened in the call, as far as the report cares."""

    talked: bool
    filled: list[str]
    missing: list[str]
    transfer: bool
    ended_by_agent: str  # the end_call reason, empty when the agent did not end the call
    hard_fields: list[str]  # fields that needed more than one try
    interruptions: int
    voicemail: bool = False  # an answering machine took the call (the dialer left a message)


def task_gist(task: str) -> str:
    """ "Collect the details of a car insurance claim." → "the details of a car insurance claim";
    "Help the customer file a claim for the damage in their kitchen." → "the claim for the
    damage in your kitchen" (addressed to the customer, as the synthesis is)."""
    clause = _CLAUSE_END_RE.split(task.strip(), maxsplit=1)[0]
    words = clause.lower().split()
    if words and words[0] not in _DETERMINERS | _POSSESSIVES:
        words = words[1:]  # an imperative verb: "collect", "help", "check"
        words = _without_person_and_verb(words)
    if not words:
        return "the call"
    if words[0] in _POSSESSIVES:
        words[0] = "the"
    elif words[0] not in _DETERMINERS:
        words.insert(0, "the")
    words = [_SECOND_PERSON.get(word, word) for word in words]
    if len(words) > _GIST_WORDS:
        words = words[:_GIST_WORDS]
        while words[-1] in _DANGLING:
            words.pop()
    return " ".join(words)


def _without_person_and_verb(words: list[str]) -> list[str]:
    """ "the customer file a claim" → "a claim": whom the bot helps, and their verb."""
    for person in _PEOPLE:
        if words[: len(person)] == person:
            rest = words[len(person) :]
            return rest[1:] if rest and rest[0] not in _DETERMINERS | _POSSESSIVES else rest
    return words


def _policy_retries(raw: str) -> dict[str, int]:
    try:
        state: Any = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    retries = state.get("retries", {}) if isinstance(state, dict) else {}
    return (
        {k: v for k, v in retries.items() if isinstance(v, int)}
        if isinstance(retries, dict)
        else {}
    )


def signals(call: Call) -> CallSignals:
    fields = call.initiate.claim
    agent_tools = [
        tool for m in call.messages if m.persona is Persona.ASSISTANT for tool in m.tool_calls
    ]
    end_reasons = [
        json.loads(t.arguments_json or "{}").get("reason", "ended") or "ended"
        for t in agent_tools
        if t.name == "end_call"
    ]
    retries = _policy_retries(call.policy_state)
    return CallSignals(
        talked=any(
            m.persona is Persona.HUMAN and m.action in (MessageAction.TALK, MessageAction.DTMF)
            for m in call.messages
        ),
        filled=[label(f) for f in fields if f.name in call.claim],
        missing=[label(f) for f in fields if f.name not in call.claim],
        transfer=any(t.name == "transfer" for t in agent_tools),
        ended_by_agent=end_reasons[-1] if end_reasons else "",
        hard_fields=[label(f) for f in fields if retries.get(f.name, 0) > 0],
        interruptions=sum(1 for m in call.messages if m.interrupted),
        voicemail=call.state_reason == VOICEMAIL_REASON,
    )


def _listing(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def satisfaction(s: CallSignals) -> str:
    if not s.talked:
        return "unknown"
    if s.transfer:
        return "partial"
    if s.ended_by_agent == "caller_silent" or (not s.ended_by_agent and s.missing):
        return "low"  # the caller went quiet or hung up before we were done
    return "high" if not s.missing else "partial"


def next_action(s: CallSignals) -> NextAction:
    if s.voicemail and not s.talked:
        return NextAction(
            action="call_again",
            justification="An answering machine took the call and a message was left; "
            "call the customer again later.",
        )
    if not s.talked:
        return NextAction(
            action="high_priority",
            justification="No conversation took place; someone should call the customer back.",
        )
    if s.transfer:
        return NextAction(
            action="requires_expertise",
            justification="The customer asked to talk to a person; an expert should follow up.",
        )
    if not s.missing:
        return NextAction(
            action="case_closed",
            justification="Every requested detail was collected and confirmed during the call.",
        )
    return NextAction(
        action="customer_will_send_info",
        justification=f"Still missing: {_listing(s.missing)}; the customer can send it later.",
    )


def _improvements(s: CallSignals) -> str:
    ideas = []
    if s.hard_fields:
        ideas.append(
            f"The customer needed several tries for {_listing(s.hard_fields)}; the question "
            "could give an example of the expected answer."
        )
    if s.missing and s.talked:
        ideas.append(f"Ask for {_listing(s.missing)} again by SMS or e-mail.")
    if s.transfer:
        ideas.append(
            "The customer asked for a person; check whether the questions were clear "
            "or the case needs an expert from the start."
        )
    if s.interruptions >= 2:
        ideas.append("The customer interrupted the agent often; shorter sentences may help.")
    return " ".join(ideas) or "None: the conversation went as planned."


def summarize(call: Call) -> PostCallReport:
    """The report of a finished (or abandoned) call."""
    s = signals(call)
    request = call.initiate
    gist = task_gist(request.task)
    if s.voicemail and not s.talked:
        return _voicemail_report(s, request.bot_name, request.bot_company, gist)
    long = [f"Thank you for talking with {request.bot_company} about {gist}."]
    if s.filled:
        long.append(f"We now have {_listing(s.filled)}.")
    if s.missing:
        long.append(f"We still need {_listing(s.missing)}; please send it to us when you can.")
    if s.transfer:
        long.append("You asked to speak with a colleague, who will take it from here.")
    long.append("We will keep you informed of the next steps.")
    sms = [f"Hello, I understand you talked with {request.bot_company} about {gist}."]
    if s.filled:
        sms.append(f"I confirm we noted {_listing(s.filled)}.")
    if s.missing:
        sms.append(f"Please send us {_listing(s.missing)} when you can.")
    if s.transfer:
        sms.append("A colleague will follow up with you.")
    sms.append(f"Have a good day. {request.bot_name} from {request.bot_company}.")
    synthesis = Synthesis(
        short=gist,
        long=" ".join(long),
        satisfaction=satisfaction(s),
        improvement_suggestions=_improvements(s),
    )
    return PostCallReport(synthesis, next_action(s), " ".join(sms))


def _voicemail_report(s: CallSignals, bot_name: str, company: str, gist: str) -> PostCallReport:
    """Nobody answered but a machine: the report says a message was left, not a talk."""
    synthesis = Synthesis(
        short=gist,
        long=(
            f"We could not reach you about {gist}; {company} left you a voicemail message "
            "and will call again."
        ),
        satisfaction="unknown",
        improvement_suggestions="None: an answering machine took the call.",
    )
    sms = (
        f"Hello, {company} tried to call you about {gist} and left a voicemail message. "
        f"We will call again. {bot_name} from {company}."
    )
    return PostCallReport(synthesis, next_action(s), sms)
