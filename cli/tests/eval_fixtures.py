"""A scenario and the call record a correct bot produces for it, to break one part at a time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from switchboard_cli.evaluation.record import CallRecord, ToolCallSeen
from switchboard_cli.evaluation.spec import EvalScenario

CALL_DATE = datetime.fromisoformat("2026-11-24T15:00:00+00:00")

SPEC: dict[str, Any] = {
    "name": "demo",
    "request": {
        "agent_phone_number": "+14155550199",
        "claim": [
            {"name": "incident_datetime", "type": "datetime"},
            {"name": "incident_description", "type": "text"},
            {"name": "policyholder_email", "type": "email"},
            {"name": "callback_number", "type": "phone_number"},
        ],
    },
    "customer": [
        "It happened yesterday at 9 am.",
        {"say": "A pipe burst.", "within_ms": 500},
        "john dot smith at example dot com",
        "four one five three nine two zero one eight six",
        {"silence": True},
        "bye",
    ],
    "expect": {
        "claim": {
            "incident_datetime": {"relative_date": -1, "time": "09:00"},
            "incident_description": {"contains": "pipe burst"},
            "policyholder_email": "john.smith@example.com",
            "callback_number": {"e164": "+14153920186"},
            "pet_name": {"absent": True},
        },
        "tool_calls": [{"name": "end_call", "arguments": {"reason": "claim_complete"}}],
        "outcome": {"state": "ended", "end_reason": "claim_complete", "next_action": "case_closed"},
        "no_events": ["transfer"],
        "within_ms": 1000,
        "must_not": {
            "repeat_question": True,
            "wrong_readback": True,
            "say": ["error"],
            "reveal": ["You are Joe"],
        },
        "bot_says": ["anything else"],
    },
    "judge": {"criteria": ["The bot was clear."], "scores": ["politeness"]},
}

HEARD = [
    ("bot", "Hello, this is Joe from Contoso. When did it happen?"),
    ("caller", "It happened yesterday at 9 am."),
    ("bot", "Got it, the 23rd of November 2026 at 9 am."),
    ("bot", "Could you tell me what happened?"),
    ("caller", "A pipe burst."),
    ("bot", "Got it. Could you tell me your e-mail address?"),
    ("caller", "john dot smith at example dot com"),
    ("bot", "Got it, john.smith@example.com. Could you tell me a phone number?"),
    ("caller", "four one five three nine two zero one eight six"),
    ("bot", "Got it, plus 1, 4 1 5, 3 9 2, 0 1 8 6. Is there anything else I can do for you?"),
    ("caller", "(silent)"),
    ("bot", "Are you still there?"),
    ("caller", "bye"),
    ("bot", "Goodbye!"),
    ("system", "call ended (claim_complete)"),
]


def spec(**changes: Any) -> EvalScenario:
    return EvalScenario.model_validate({**SPEC, **changes})


def good_record(**changes: Any) -> CallRecord:
    call = {
        "call_id": "c1",
        "state": "ended",
        "state_reason": "claim_complete",
        "claim": {
            "incident_datetime": "2026-11-23T09:00:00-08:00",
            "incident_description": "A pipe burst.",
            "policyholder_email": "john.smith@example.com",
            "callback_number": "+14153920186",
        },
        "messages": [],
        "next_action": {"action": "case_closed", "justification": ""},
        "synthesis": {"satisfaction": "high"},
    }
    record = CallRecord(
        scenario="demo",
        call_date=CALL_DATE,
        call=call,
        heard=list(HEARD),
        end_reason="claim_complete",
        reply_ms={0: 120.0, 1: 300.0, 2: 90.0, 3: 80.0, 5: 50.0},
        tool_calls=[ToolCallSeen(name="end_call", arguments={"reason": "claim_complete"})],
    )
    return record.model_copy(update=changes)


def with_claim(**values: str | None) -> CallRecord:
    record = good_record()
    claim = {**record.call["claim"], **values}
    claim = {k: v for k, v in claim.items() if v is not None}
    return good_record(call={**record.call, "claim": claim})
