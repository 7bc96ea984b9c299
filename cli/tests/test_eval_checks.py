"""Each expectation kind passes on a correct call and fails on a deliberately wrong one."""

from __future__ import annotations

import pytest

from switchboard_cli.evaluation.checks import check_all, repeated_questions
from switchboard_cli.evaluation.record import CallRecord, Result, ToolCallSeen
from switchboard_cli.evaluation.spec import ClaimRule

from .eval_fixtures import HEARD, good_record, spec, with_claim


def failures(record: CallRecord) -> list[Result]:
    return [r for r in check_all(spec(), record) if r.status == "fail"]


def failed_names(record: CallRecord) -> set[tuple[str, str]]:
    return {(r.kind, r.name) for r in failures(record)}


def test_a_correct_call_passes_every_expectation() -> None:
    assert failures(good_record()) == []


def test_every_expectation_kind_is_checked() -> None:
    kinds = {r.kind for r in check_all(spec(), good_record())}
    assert kinds == {"claim", "tool_call", "outcome", "event", "latency", "must_not", "bot_says"}


@pytest.mark.parametrize(
    ("values", "broken"),
    [
        ({"policyholder_email": "john.smyth@example.com"}, "policyholder_email"),
        ({"policyholder_email": None}, "policyholder_email"),
        ({"incident_datetime": "2026-11-22T09:00:00-08:00"}, "incident_datetime"),
        ({"incident_datetime": "2026-11-23T10:00:00-08:00"}, "incident_datetime"),
        ({"incident_datetime": "yesterday"}, "incident_datetime"),
        ({"incident_description": "The roof leaks."}, "incident_description"),
        ({"callback_number": "+14153920187"}, "callback_number"),
        ({"callback_number": "415 392 0186"}, "callback_number"),
        ({"pet_name": "Rex"}, "pet_name"),
    ],
)
def test_a_wrong_missing_or_unwanted_claim_value_fails_its_expectation(
    values: dict[str, str | None], broken: str
) -> None:
    assert ("claim", broken) in failed_names(with_claim(**values))


def test_an_exact_datetime_matches_the_same_instant_in_another_offset() -> None:
    from switchboard_cli.evaluation.checks import claim_value_ok

    from .eval_fixtures import CALL_DATE

    rule = ClaimRule(equals="2026-03-03T14:30:00-08:00")
    assert claim_value_ok(rule, "2026-03-03T22:30:00+00:00", CALL_DATE)[0]
    assert not claim_value_ok(rule, "2026-03-03T14:30:00+00:00", CALL_DATE)[0]


def test_any_e164_rule_accepts_a_valid_number_and_rejects_a_national_one() -> None:
    from switchboard_cli.evaluation.checks import claim_value_ok

    from .eval_fixtures import CALL_DATE

    assert claim_value_ok(ClaimRule(e164=True), "+14155550142", CALL_DATE)[0]
    assert not claim_value_ok(ClaimRule(e164=True), "(415) 555-0142", CALL_DATE)[0]


def test_a_missing_tool_call_or_wrong_arguments_fail() -> None:
    wrong_args = [ToolCallSeen(name="end_call", arguments={"reason": "silence"})]
    assert any(r.kind == "tool_call" for r in failures(good_record(tool_calls=wrong_args)))
    assert any(r.kind == "tool_call" for r in failures(good_record(tool_calls=[])))


def test_a_tool_call_that_must_be_absent_fails_when_made() -> None:
    absent = spec(expect={"tool_calls": [{"name": "transfer", "absent": True}]})
    calls = [ToolCallSeen(name="transfer", arguments={"target": "+14155550199"})]
    results = check_all(absent, good_record(tool_calls=calls))
    assert [r.status for r in results if r.kind == "tool_call"] == ["fail"]


@pytest.mark.parametrize(
    ("field", "change"),
    [
        ("state", {"state": "failed"}),
        ("next_action", {"next_action": {"action": "requires_expertise"}}),
    ],
)
def test_a_different_outcome_fails(field: str, change: dict[str, object]) -> None:
    record = good_record()
    assert ("outcome", field) in failed_names(good_record(call={**record.call, **change}))


def test_a_different_end_reason_fails() -> None:
    assert ("outcome", "end_reason") in failed_names(good_record(end_reason="transferred"))


def test_a_transfer_that_must_not_happen_fails() -> None:
    record = good_record(end_reason="transferred")
    record = record.model_copy(update={"call": {**record.call, "state_reason": "transferred"}})
    assert ("event", "no transfer") in failed_names(record)


def test_a_caller_hang_up_event_needs_the_caller_to_hang_up() -> None:
    wants = spec(expect={"events": ["hangup"]})
    assert check_all(wants, good_record())[0].status == "fail"
    assert check_all(wants, good_record(end_reason="caller_hangup"))[0].status == "pass"


def test_an_sms_event_needs_an_sms_message_from_the_bot() -> None:
    wants_sms = spec(expect={"events": ["sms"]})
    assert check_all(wants_sms, good_record())[0].status == "fail"
    sms = {"persona": "assistant", "action": "sms", "content": "Your claim"}
    record = good_record()
    record = record.model_copy(update={"call": {**record.call, "messages": [sms]}})
    assert check_all(wants_sms, record)[0].status == "pass"


def test_a_voicemail_event_needs_the_call_to_end_on_voicemail() -> None:
    wants = spec(expect={"events": ["voicemail"]})
    assert check_all(wants, good_record())[0].status == "fail"
    assert check_all(wants, good_record(end_reason="voicemail"))[0].status == "pass"


def test_a_slow_reply_breaks_its_own_budget_and_the_default_one() -> None:
    slow = good_record(reply_ms={0: 1500.0, 1: 600.0, 2: 90.0, 3: 80.0, 5: 50.0})
    names = failed_names(slow)
    assert ("latency", "turn 1 within 1000 ms") in names
    assert ("latency", "turn 2 within 500 ms") in names


def test_a_turn_the_bot_never_answered_fails_its_budget() -> None:
    silent = good_record(reply_ms={0: 100.0, 1: 100.0, 2: 90.0, 3: 80.0})
    assert ("latency", "turn 6 within 1000 ms") in failed_names(silent)


def test_a_question_asked_twice_fails_unless_the_caller_asked_to_repeat() -> None:
    again = [*HEARD[:5], ("bot", "Could you tell me what happened?")]
    assert ("must_not", "repeat a question") in failed_names(good_record(heard=again))
    asked = [*HEARD[:4], ("caller", "Sorry, can you repeat that?"), HEARD[3]]
    assert repeated_questions(asked) == []


def test_a_forbidden_phrase_and_a_revealed_secret_fail() -> None:
    leak = [*HEARD, ("bot", "An error occurred. My instructions: You are Joe, a bot.")]
    names = failed_names(good_record(heard=leak))
    assert ("must_not", "say 'error'") in names
    assert ("must_not", "reveal 'You are Joe'") in names


@pytest.mark.parametrize(
    "line",
    ["Got it, john.smyth@example.com.", "Got it, plus 1, 4 1 5, 3 9 2, 0 1 8 7."],
)
def test_a_value_read_back_wrong_fails(line: str) -> None:
    heard = [*HEARD, ("bot", line)]
    assert ("must_not", "read back a wrong value") in failed_names(good_record(heard=heard))


def test_a_phrase_the_bot_never_said_fails() -> None:
    heard = [(s, t) for s, t in HEARD if "anything else" not in t]
    assert ("bot_says", "anything else") in failed_names(good_record(heard=heard))


def test_a_date_read_back_is_not_taken_for_a_wrong_phone_number() -> None:
    heard = [*HEARD, ("bot", "Got it, the 3rd of March 2026-230 pm.")]
    assert ("must_not", "read back a wrong value") not in failed_names(good_record(heard=heard))
