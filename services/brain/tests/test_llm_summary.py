"""The post-call report from the model: schema-validated, bounded retries, fallbacks."""

from __future__ import annotations

import json

from switchboard.config import LlmSettings
from switchboard.domain import Message, MessageAction, Persona
from switchboard_brain.summary import summarize
from switchboard_brain.summary_llm import LlmSummarizer
from switchboard_testing.brain_fakes import InMemoryStore, Reply, ScriptedChatModel, provider_down

SYNTHESIS = {
    "short": "a car accident",
    "long": "You told us about your car accident; we will call you.",
    "satisfaction": "high",
    "improvement_suggestions": "None.",
}
NEXT = {"action": "case_closed", "justification": "Everything was collected."}
SMS = {"sms": "Hello, I understand your car was hit. Amelia from Contoso Insurance."}


def talked_call(store: InMemoryStore):  # type: ignore[no-untyped-def]
    call = store.new_call()
    call.messages = [
        Message(persona=Persona.ASSISTANT, content="Hello, what happened?", turn_id="g"),
        Message(persona=Persona.HUMAN, content="A truck hit my car.", turn_id="t1"),
    ]
    call.claim["description"] = "A truck hit my car."
    return call


def answers(synthesis: object, next_action: object, sms: object) -> ScriptedChatModel:
    model = ScriptedChatModel()
    model.by_schema = {
        "SynthesisAnswer": [Reply(json.dumps(synthesis))],
        "NextActionAnswer": [Reply(json.dumps(next_action))],
        "SmsAnswer": [Reply(json.dumps(sms))],
    }
    return model


async def test_valid_answers_make_the_report() -> None:
    store = InMemoryStore()
    model = answers(SYNTHESIS, NEXT, SMS)
    report = await LlmSummarizer(model, LlmSettings()).summarize(talked_call(store))
    assert report.synthesis.short == "a car accident"
    assert report.next_action.action == "case_closed"
    assert report.sms_summary.startswith("Hello, I understand")
    schemas = [r.json_schema for r in model.requests]
    assert all(s is not None for s in schemas)


async def test_an_invalid_answer_is_sent_back_with_the_error_then_fixed() -> None:
    store = InMemoryStore()
    model = ScriptedChatModel()
    model.by_schema = {
        "SynthesisAnswer": [Reply('{"short": "x"}'), Reply(json.dumps(SYNTHESIS))],
        "NextActionAnswer": [
            Reply(json.dumps({"action": "call_the_police", "justification": "?"})),
            Reply(json.dumps(NEXT)),
        ],
        "SmsAnswer": [Reply(json.dumps(SMS))],
    }
    report = await LlmSummarizer(model, LlmSettings()).summarize(talked_call(store))
    assert report.synthesis.long == SYNTHESIS["long"]
    assert report.next_action.action == "case_closed"
    retries = [r for r in model.requests if len(r.messages) > 4]
    assert len(retries) == 2
    for retry in retries:
        assert retry.messages[-1].content.startswith("A validation error occurred")  # type: ignore[union-attr]


async def test_retries_are_bounded_then_the_rules_fill_the_part() -> None:
    store = InMemoryStore()
    call = talked_call(store)
    model = ScriptedChatModel([Reply("not json")] * 20)
    report = await LlmSummarizer(model, LlmSettings(summary_retries=2)).summarize(call)
    assert len(model.requests) == 6  # three parts, two tries each
    assert report == summarize(call)


async def test_a_provider_error_or_a_call_without_conversation_uses_the_rules() -> None:
    store = InMemoryStore()
    call = talked_call(store)
    down = ScriptedChatModel([Reply(error=provider_down())] * 3)
    assert await LlmSummarizer(down, LlmSettings()).summarize(call) == summarize(call)
    silent = store.new_call("call-2")
    silent.messages = [Message(persona=Persona.HUMAN, action=MessageAction.CALL)]
    unused = ScriptedChatModel()
    assert await LlmSummarizer(unused, LlmSettings()).summarize(silent) == summarize(silent)
    assert not unused.requests
