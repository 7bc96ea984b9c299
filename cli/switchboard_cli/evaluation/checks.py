"""Expectations checked in code against a ``CallRecord``.

Each checker returns one ``Result`` per expectation, so a report can tell which
part of a scenario broke; none of them needs a model.
"""

from __future__ import annotations

import contextlib
import json
import re
from datetime import datetime, timedelta
from typing import Any

from switchboard.errors import InvalidArgument
from switchboard.phones import parse_e164
from switchboard_cli.evaluation.record import CallRecord, Result, ToolCallSeen
from switchboard_cli.evaluation.spec import ClaimRule, EvalScenario, EventKind, MustNot

# Caller lines after which the bot may legitimately ask its question again.
_REPEAT_REQUEST = re.compile(r"repeat|again|pardon|sorry\?|what was|come again|\(silent\)", re.I)
# Prompts that are meant to recur (the silence check).
_RECURRING = ("are you still there",)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_DIGIT_RUN = re.compile(r"\d[\d ,.\-()]*\d")
_MIN_PHONE_DIGITS = 9  # shorter digit runs are dates, times, amounts


def check_all(spec: EvalScenario, record: CallRecord) -> list[Result]:
    """Every code-checked expectation of ``spec`` on ``record``."""
    expect = spec.expect
    return [
        *check_claim(spec.claim_rules(), record),
        *check_tool_calls(spec, record),
        *check_outcome(spec, record),
        *check_events(expect.events, expect.no_events, record),
        *check_latency(spec, record),
        *check_must_not(expect.must_not, spec, record),
        *check_bot_says(expect.bot_says, record),
    ]


# Claim values.


def check_claim(rules: dict[str, ClaimRule], record: CallRecord) -> list[Result]:
    claim: dict[str, str] = record.call.get("claim") or {}
    results = []
    for name, rule in rules.items():
        got = claim.get(name)
        ok, detail = claim_value_ok(rule, got, record.call_date)
        results.append(Result.check("claim", name, ok, detail))
    return results


def claim_value_ok(rule: ClaimRule, got: str | None, call_date: datetime) -> tuple[bool, str]:
    """(passes, why not) for one stored value (None: not collected)."""
    if rule.absent:
        return got is None, "" if got is None else f"collected {got!r}, expected nothing"
    if got is None:
        return False, "not collected"
    if rule.equals is not None:
        return _same(rule.equals, got), f"expected {rule.equals!r}, got {got!r}"
    if rule.contains is not None:
        ok = _norm(rule.contains) in _norm(got)
        return ok, f"expected it to contain {rule.contains!r}, got {got!r}"
    if rule.e164 is not None:
        return _e164_ok(rule.e164, got)
    assert rule.relative_date is not None
    return _relative_date_ok(rule.relative_date, rule.time, got, call_date)


def _norm(text: str) -> str:
    return " ".join(text.casefold().split()).rstrip(".!?")


def _same(want: str, got: str) -> bool:
    with contextlib.suppress(ValueError):
        return datetime.fromisoformat(want) == datetime.fromisoformat(got)
    return _norm(want) == _norm(got)


def _e164_ok(rule: bool | str, got: str) -> tuple[bool, str]:
    try:
        normalised = parse_e164(got)
    except (ValueError, InvalidArgument):
        return False, f"{got!r} is not a valid E.164 number"
    if isinstance(rule, str):
        return normalised == rule, f"expected {rule}, got {got}"
    ok = bool(rule) and normalised == got
    return ok, f"{got!r} is not written in E.164"


def _relative_date_ok(
    days: int, time: str | None, got: str, call_date: datetime
) -> tuple[bool, str]:
    try:
        value = datetime.fromisoformat(got)
    except ValueError:
        return False, f"{got!r} is not an ISO 8601 date"
    local_today = call_date.astimezone(value.tzinfo).date() if value.tzinfo else call_date.date()
    want_date = local_today + timedelta(days=days)
    if value.date() != want_date:
        return False, f"expected the date {want_date} (call date {days:+d} days), got {got}"
    if time is not None and value.strftime("%H:%M") != time:
        return False, f"expected the time {time}, got {got}"
    return True, ""


# Tool calls.


def check_tool_calls(spec: EvalScenario, record: CallRecord) -> list[Result]:
    results = []
    for rule in spec.expect.tool_calls:
        args = json.dumps(rule.arguments, sort_keys=True) if rule.arguments else ""
        name = f"{'no ' if rule.absent else ''}{rule.name}({args})"
        found = any(_tool_matches(rule.name, rule.arguments, c) for c in record.tool_calls)
        seen = ", ".join(f"{c.name}({json.dumps(c.arguments)})" for c in record.tool_calls)
        results.append(Result.check("tool_call", name, found != rule.absent, f"calls: {seen}"))
    return results


def _tool_matches(name: str, arguments: dict[str, Any], call: ToolCallSeen) -> bool:
    return call.name == name and _subset(arguments, call.arguments)


def _subset(want: Any, got: Any) -> bool:
    """``want`` is contained in ``got``: dict keys recursively, list items each found."""
    if isinstance(want, dict):
        return isinstance(got, dict) and all(
            k in got and _subset(v, got[k]) for k, v in want.items()
        )
    if isinstance(want, list):
        return isinstance(got, list) and all(any(_subset(w, g) for g in got) for w in want)
    if isinstance(want, str) and isinstance(got, str):
        return _norm(want) == _norm(got)
    return bool(want == got)


# Outcome.


def check_outcome(spec: EvalScenario, record: CallRecord) -> list[Result]:
    outcome = spec.expect.outcome
    call = record.call
    actual = {
        "state": call.get("state"),
        "end_reason": record.end_reason or call.get("state_reason"),
        "next_action": (call.get("next_action") or {}).get("action"),
        "satisfaction": (call.get("synthesis") or {}).get("satisfaction"),
    }
    results = []
    for key, want in outcome.model_dump(exclude_none=True).items():
        got = actual[key]
        results.append(Result.check("outcome", key, got == want, f"expected {want}, got {got}"))
    return results


# Events.


def events_seen(record: CallRecord) -> set[EventKind]:
    """The events the call shows: a transfer, an SMS sent, voicemail, the caller hanging up."""
    seen: set[EventKind] = set()
    reasons = f"{record.end_reason} {record.call.get('state_reason', '')}".casefold()
    if "transfer" in reasons or any(s == "system" and "transferred" in t for s, t in record.heard):
        seen.add("transfer")
    if any(c.name == "transfer" for c in record.tool_calls):
        seen.add("transfer")
    messages = record.call.get("messages") or []
    if any(m.get("action") == "sms" and m.get("persona") == "assistant" for m in messages):
        seen.add("sms")
    if "voicemail" in reasons or "machine" in reasons:
        seen.add("voicemail")
    if "hangup" in reasons or "hung_up" in reasons:
        seen.add("hangup")
    return seen


def check_events(
    wanted: list[EventKind], unwanted: list[EventKind], record: CallRecord
) -> list[Result]:
    seen = events_seen(record)
    detail = f"seen: {', '.join(sorted(seen)) or 'none'}"
    return [Result.check("event", e, e in seen, detail) for e in wanted] + [
        Result.check("event", f"no {e}", e not in seen, detail) for e in unwanted
    ]


# Latency budgets.


def check_latency(spec: EvalScenario, record: CallRecord) -> list[Result]:
    results = []
    for index, line in enumerate(spec.customer):
        budget = line.within_ms or spec.expect.within_ms
        if budget is None or line.silence or line.hangup:
            continue
        got = record.reply_ms.get(index)
        name = f"turn {index + 1} within {budget} ms"
        if got is None:
            results.append(Result.check("latency", name, False, "the bot never replied"))
        else:
            results.append(Result.check("latency", name, got <= budget, f"{got:.0f} ms"))
    return results


# Things that must not happen.


def check_must_not(rules: MustNot, spec: EvalScenario, record: CallRecord) -> list[Result]:
    results = []
    bot = record.bot_lines()
    if rules.repeat_question:
        repeated = repeated_questions(record.heard)
        results.append(
            Result.check("must_not", "repeat a question", not repeated, "; ".join(repeated))
        )
    for kind, phrases in (("say", rules.say), ("reveal", rules.reveal)):
        for phrase in phrases:
            said = [line for line in bot if phrase.casefold() in line.casefold()]
            results.append(
                Result.check("must_not", f"{kind} {phrase!r}", not said, " | ".join(said))
            )
    if rules.wrong_readback:
        wrong = wrong_readbacks(spec, record)
        results.append(
            Result.check("must_not", "read back a wrong value", not wrong, "; ".join(wrong))
        )
    return results


def repeated_questions(heard: list[tuple[str, str]]) -> list[str]:
    """Questions the bot asked again without being asked to repeat (or met with silence)."""
    asked: set[str] = set()
    repeated = []
    last_caller = ""
    for speaker, text in heard:
        if speaker == "caller":
            last_caller = text
            continue
        if speaker != "bot" or not text.rstrip().endswith("?"):
            continue
        question = _norm(text)
        if any(r in question for r in _RECURRING):
            continue
        if question in asked and not _REPEAT_REQUEST.search(last_caller):
            repeated.append(text)
        asked.add(question)
    return repeated


def wrong_readbacks(spec: EvalScenario, record: CallRecord) -> list[str]:
    """E-mail addresses and phone numbers in the bot's lines that are not the expected ones."""
    rules = spec.claim_rules().values()
    emails = {r.equals.casefold() for r in rules if r.equals and "@" in r.equals}
    phones = {_digits(v) for r in rules for v in (r.equals, r.e164) if isinstance(v, str)}
    phones = {p for p in phones if len(p) >= _MIN_PHONE_DIGITS}
    allowed_phones = phones | {
        _digits(str(v)) for k, v in spec.request.items() if k.endswith("phone_number")
    }
    wrong = []
    for line in record.bot_lines():
        if emails:
            wrong += [e for e in _EMAIL.findall(line) if e.casefold().rstrip(".") not in emails]
        if phones:
            for run in _DIGIT_RUN.findall(line):
                digits = _digits(run)
                if len(digits) >= _MIN_PHONE_DIGITS and not any(
                    p.endswith(digits) or digits.endswith(p) for p in allowed_phones
                ):
                    wrong.append(run)
    return wrong


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def check_bot_says(phrases: list[str], record: CallRecord) -> list[Result]:
    bot = [line.casefold() for line in record.bot_lines()]
    return [
        Result.check("bot_says", phrase, any(phrase.casefold() in line for line in bot))
        for phrase in phrases
    ]
