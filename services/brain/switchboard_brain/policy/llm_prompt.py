"""What the llm policy sends: the system prompt, the history as chat messages, trimmed.

The caller's words only ever appear as ``user`` messages (and, once saved, as JSON
values in the claim section, introduced as data); never inside an instruction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from switchboard.domain import Call, CallDirection, Message, MessageAction, Persona
from switchboard_brain import prompts
from switchboard_brain.llm.base import ChatMessage, ModelToolCall, ToolSpec
from switchboard_brain.llm.tokens import TokenCounter, message_tokens, tools_tokens
from switchboard_brain.policy.base import TurnContext

INTERRUPTED_MARK = " [interrupted]"


def is_turn_action(tool_id: str, name: str) -> bool:
    """The session's own records of a turn's transfer / end_call (not the model's)."""
    return tool_id.endswith(f"-{name}")


# What an unverified caller's prompt holds instead of a saved value.
ON_FILE = "(saved earlier; never read it back)"


_FRENCH_DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_FRENCH_MONTHS = (
    *("janvier", "février", "mars", "avril", "mai", "juin"),
    *("juillet", "août", "septembre", "octobre", "novembre", "décembre"),
)


def spoken_now(now: datetime, lang: str) -> str:
    """The current date and time as the prompt of ``lang`` states it."""
    if lang.lower().startswith("fr"):
        day, month = _FRENCH_DAYS[now.weekday()], _FRENCH_MONTHS[now.month - 1]
        return f"{day} {now.day} {month} {now.year}, {now:%H:%M} (UTC{now:%z})"
    return now.strftime("%A %d %B %Y, %H:%M (UTC%z)")


def system_prompt(ctx: TurnContext, unverified: bool = False) -> str:
    """The rules, the task and the claim, in the call's current language (from the
    per-language prompt files, see ``prompts``). ``unverified``: the call was resumed by a
    caller known only by their number, so no saved value is shown (what they say in
    this leg is in this leg's history)."""
    call = ctx.call
    claim = [
        {
            "field": f.name,
            "type": f.type.value,
            "description": f.description,
            "value": ON_FILE if unverified and f.name in call.claim else call.claim.get(f.name),
        }
        for f in call.initiate.claim
    ]
    reminders = [
        {
            "title": r.title,
            "description": r.description,
            "due": r.due_at.isoformat() if r.due_at else None,
            "owner": r.owner,
        }
        for r in call.reminders
    ]
    lang = call.current_lang
    return prompts.render_for(
        "system",
        lang,
        request=call.initiate,
        outbound=call.direction is CallDirection.OUTBOUND,
        now=spoken_now(ctx.now, lang),
        timezone=str(ctx.timezone),
        interrupted=any(m.interrupted for m in call.messages),
        unverified=unverified,
        claim_json=json.dumps(claim, ensure_ascii=False),
        reminders_json=json.dumps(reminders, ensure_ascii=False) if reminders else "",
    )


def _this_leg(call: Call) -> list[Message]:
    """The messages since the line last connected (the store records each connection)."""
    starts = [
        i
        for i, m in enumerate(call.messages)
        if m.persona is Persona.HUMAN and m.action is MessageAction.CALL
    ]
    return call.messages[starts[-1] :] if starts else call.messages


def history(call: Call, unverified: bool = False) -> list[list[ChatMessage]]:
    """The stored transcript as groups that must stay together (a tool call and its
    results), oldest first; only this leg's when the caller is ``unverified``."""
    groups: list[list[ChatMessage]] = []
    for message in _this_leg(call) if unverified else call.messages:
        if message.persona is Persona.HUMAN:
            if message.action is MessageAction.TALK and message.content:
                groups.append([ChatMessage("user", message.content)])
            elif message.action is MessageAction.DTMF and message.content:
                groups.append([ChatMessage("user", f"(keypad) {message.content}")])
            continue
        if message.persona is not Persona.ASSISTANT:
            continue
        calls = [t for t in message.tool_calls if not is_turn_action(t.tool_id, t.name)]
        group: list[ChatMessage] = []
        if calls:
            group.append(
                ChatMessage(
                    "assistant",
                    None,
                    tuple(ModelToolCall(t.tool_id, t.name, t.arguments_json) for t in calls),
                )
            )
            group.extend(ChatMessage("tool", t.result, tool_call_id=t.tool_id) for t in calls)
        if message.content:
            mark = INTERRUPTED_MARK if message.interrupted else ""
            group.append(ChatMessage("assistant", message.content + mark))
        if group:
            groups.append(group)
    return groups


@dataclass(frozen=True)
class Budget:
    max_messages: int
    context_tokens: int
    answer_tokens: int


def conversation(
    ctx: TurnContext,
    caller_text: str,
    tools: list[ToolSpec] | None,
    counter: TokenCounter,
    budget: Budget,
    unverified: bool = False,
) -> list[ChatMessage]:
    """System prompt, the newest history that fits, then the caller's words."""
    system = ChatMessage("system", system_prompt(ctx, unverified))
    groups = history(ctx.call, unverified)
    # The session stores the caller's message while the policy runs: it may be there.
    if groups and groups[-1] == [ChatMessage("user", caller_text)]:
        groups.pop()
    current = ChatMessage("user", caller_text)
    spent = (
        message_tokens(counter, system)
        + message_tokens(counter, current)
        + tools_tokens(counter, tools)
        + budget.answer_tokens
    )
    kept: list[list[ChatMessage]] = []
    count = 0
    for group in reversed(groups):
        cost = sum(message_tokens(counter, m) for m in group)
        if count + len(group) > budget.max_messages or spent + cost > budget.context_tokens:
            break
        kept.append(group)
        count += len(group)
        spent += cost
    kept.reverse()
    return [system, *(m for g in kept for m in g), current]
