"""The llm policy through a real session, with scripted models on virtual time."""

from __future__ import annotations

import json

from switchboard.converse import (
    AgentSentence,
    AgentTransfer,
    AgentTurnDone,
    EndCallRequest,
    PlayoutReport,
    SmsRequest,
    SpeechSettings,
)
from switchboard.domain import CallState, Persona
from switchboard_brain.llm.base import ContentFiltered
from switchboard_brain.llm.tokens import EstimatedTokens, message_tokens, tools_tokens
from switchboard_testing.brain_fakes import Reply, provider_down, tool
from switchboard_testing.llm_helpers import Rig, sentences


async def test_sentences_leave_as_soon_as_complete_and_are_not_split_inside() -> None:
    rig = Rig()
    rig.fast.replies = [
        Reply(
            "The fee is $29.99. Dr. Smith will call you back. Anything else?",
            pause_after_first_sentence=3.0,
        )
    ]
    events = await rig.say("How much is it?")
    assert sentences(events) == [
        "The fee is $29.99.",
        "Dr. Smith will call you back.",
        "Anything else?",
    ]
    first_at = next(t for t, e in rig.arrivals if isinstance(e, AgentSentence))
    assert first_at == 0.0  # before the model paused for three seconds
    assert isinstance(events[-1], AgentTurnDone)
    stored = rig.call.messages[-1]
    assert stored.persona is Persona.ASSISTANT
    assert stored.content.startswith("The fee is $29.99. Dr. Smith")


async def test_a_claim_update_through_a_tool_is_stored_and_confirmed_before_the_answer() -> None:
    rig = Rig()
    rig.fast.replies = [
        Reply(
            tools=[
                tool(
                    "updated_claim",
                    updates=[{"field": "email", "value": "jo@example.com"}],
                    customer_response="Noted.",
                )
            ]
        ),
        Reply("Thanks. What happened?"),
    ]
    events = await rig.say("My email is jo at example dot com")
    assert rig.call.claim["email"] == "jo@example.com"
    assert sentences(events) == ["Noted.", "Thanks.", "What happened?"]
    tool_message = rig.fast.requests[1].messages[-1]
    assert tool_message.role == "tool"
    assert json.loads(tool_message.content or "")["saved"] == {"email": "jo@example.com"}
    kept = rig.call.messages[-1].tool_calls
    assert [t.name for t in kept] == ["updated_claim"]


async def test_a_rejected_value_and_its_reason_go_back_to_the_model() -> None:
    rig = Rig()
    rig.fast.replies = [
        Reply(
            tools=[
                tool(
                    "updated_claim",
                    updates=[
                        {"field": "email", "value": "not an email"},
                        {"field": "description", "value": "A truck hit my car"},
                    ],
                    customer_response="Let me note that.",
                )
            ]
        ),
        Reply("Could you spell your e-mail address?"),
    ]
    await rig.say("My email is not an email, and a truck hit my car")
    result = json.loads(rig.fast.requests[1].messages[-1].content or "")
    assert result["saved"] == {"description": "A truck hit my car"}
    assert result["rejected"][0]["field"] == "email"
    assert result["rejected"][0]["reason"]
    assert "email" not in rig.call.claim


async def test_parallel_tool_calls_all_run_and_all_results_go_back() -> None:
    rig = Rig()
    rig.fast.replies = [
        Reply(
            tools=[
                tool(
                    "updated_claim",
                    updates=[{"field": "description", "value": "Flooded"}],
                    customer_response="Noted.",
                ),
                tool(
                    "new_or_updated_reminder",
                    title="Call back customer",
                    description="",
                    due_date_time="2026-11-25T10:00:00-05:00",
                    owner="agent",
                    customer_response="I'll set a reminder.",
                ),
            ]
        ),
        Reply("Done."),
    ]
    events = await rig.say("My basement flooded, call me back tomorrow")
    assert sentences(events)[:2] == ["Noted.", "I'll set a reminder."]
    roles = [m.role for m in rig.fast.requests[1].messages[-3:]]
    assert roles == ["assistant", "tool", "tool"]
    assert rig.call.claim["description"] == "Flooded"
    assert [r.title for r in rig.call.reminders] == ["Call back customer"]


async def test_malformed_tool_json_and_unknown_tools_are_told_to_the_model() -> None:
    rig = Rig()
    rig.fast.replies = [
        Reply(
            tools=[
                ("updated_claim", '{"updates": [{"field": "email"'),
                ("multi_tool_use.parallel", "{}"),
            ]
        ),
        Reply("Sorry, what is your e-mail address?"),
    ]
    events = await rig.say("jo@example.com")
    results = [m.content or "" for m in rig.fast.requests[1].messages if m.role == "tool"]
    assert results[0].startswith("Error: invalid arguments for updated_claim")
    assert results[1].startswith("Error: there is no tool named 'multi_tool_use.parallel'")
    assert sentences(events) == ["Sorry, what is your e-mail address?"]


async def test_no_first_sentence_after_the_soft_timeout_speaks_a_filler_not_stored() -> None:
    rig = Rig()
    rig.fast.replies = [Reply("Here you are.", delay=6.0)]
    events = await rig.say("What's my status?")
    assert sentences(events, filler=True) == ["One moment, please."]
    filler_at = next(t for t, e in rig.arrivals if isinstance(e, AgentSentence) and e.filler)
    assert filler_at == rig.features.answer_soft_timeout_sec
    assert sentences(events, filler=False) == ["Here you are."]
    assert "One moment" not in rig.call.messages[-1].content


async def test_after_the_hard_timeout_the_other_model_answers() -> None:
    rig = Rig(slow_model="slow")
    rig.fast.replies = [Reply("Too late.", delay=60.0)]
    rig.slow.replies = [Reply("The slow model answers.")]
    events = await rig.say("Hello?")
    assert sentences(events, filler=False) == ["The slow model answers."]
    answered_at = max(t for t, _ in rig.arrivals)
    assert answered_at == rig.features.answer_hard_timeout_sec
    assert "Too late." not in " ".join(sentences(events))


async def test_when_both_models_fail_the_form_policy_answers_the_turn() -> None:
    rig = Rig(slow_model="slow")
    rig.fast.replies = [Reply(error=provider_down())]
    rig.slow.replies = [Reply("never", delay=99.0)]
    events = await rig.say("last Monday at half past four")
    spoken = sentences(events, filler=False)
    assert spoken and spoken[0].startswith("Got it, the 23rd of November 2026")
    assert rig.call.claim["incident_datetime"] == "2026-11-23T16:30:00-05:00"
    assert isinstance(events[-1], AgentTurnDone)


async def test_refusals_empty_answers_and_errors_never_leave_the_caller_in_silence() -> None:
    for failure in (
        Reply(error=ContentFiltered("filtered")),
        Reply(text="", finish="stop"),
        Reply(text="", finish="content_filter"),
        Reply(error=provider_down()),
    ):
        rig = Rig(slow_model="slow")
        rig.fast.replies = [failure]
        rig.slow.replies = [failure]
        events = await rig.say("I want to report an accident")
        assert sentences(events, filler=False), failure
        assert isinstance(events[-1], AgentTurnDone)
        assert not any("error" in s.lower() for s in sentences(events))


async def test_the_slow_model_goes_first_when_the_flag_says_so() -> None:
    rig = Rig(slow_model="slow")
    rig.features = rig.features.model_copy(update={"slow_llm_for_chat": True})
    rig.slow.replies = [Reply("Slow first.")]
    events = await rig.say("Hi")
    assert sentences(events) == ["Slow first."]
    assert not rig.fast.requests


async def test_talk_to_human_transfers_to_the_agent_number_after_the_confirmation() -> None:
    rig = Rig()
    rig.fast.replies = [Reply(tools=[tool("talk_to_human", customer_response="Connecting you.")])]
    events = await rig.say("Put me through to a person")
    assert sentences(events) == ["Connecting you."]
    transfer = next(e for e in events if isinstance(e, AgentTransfer))
    assert transfer.target == "+12125550199"
    assert len(rig.fast.requests) == 1  # an action ends the turn


async def test_talk_to_human_on_a_line_without_agents_tells_the_model_instead() -> None:
    rig = Rig()
    rig.store.new_call(agent_phone_number="")
    rig.fast.replies = [
        Reply(tools=[tool("talk_to_human", customer_response="Connecting you.")]),
        Reply(text="Nobody can take the call now; may I take a message?"),
    ]
    events = await rig.say("Put me through to a person")
    assert not [e for e in events if isinstance(e, AgentTransfer)]
    tool_result = rig.fast.requests[1].messages[-1]
    assert "no colleague can take calls" in str(tool_result)


async def test_end_call_without_words_says_goodbye_first() -> None:
    rig = Rig()
    rig.fast.replies = [Reply(tools=[tool("end_call")])]
    events = await rig.say("That's all, bye")
    assert sentences(events)
    assert any(isinstance(e, EndCallRequest) for e in events)
    assert isinstance(events[-1], AgentTurnDone)


async def test_sms_and_speech_tools_reach_the_dialer() -> None:
    rig = Rig()
    rig.call.state = CallState.IN_PROGRESS
    rig.fast.replies = [
        Reply(
            tools=[
                tool(
                    "send_sms", message="Your claim number is 42.", customer_response="Texting you."
                ),
                tool("speech_speed", speed=0.2, customer_response="Is this better?"),
                tool("speech_lang", lang="fr-FR", customer_response="Bien sûr."),
            ]
        ),
        Reply("Voilà."),
    ]
    events = await rig.say("Text me the number, speak slower, in French please")
    sms = next(e for e in events if isinstance(e, SmsRequest))
    assert sms.to == "+12125550100"
    speech = [e for e in events if isinstance(e, SpeechSettings)]
    assert speech[0].prosody_rate == 0.75  # clamped
    assert speech[-1].lang == "fr-FR"
    assert rig.call.lang == "fr-FR"
    # Confirmations of speed and language come after the change, in the new voice.
    order = [type(e).__name__ for e in events]
    assert order.index("SpeechSettings") < max(
        i for i, e in enumerate(events) if isinstance(e, AgentSentence) and e.text == "Bien sûr."
    )


async def test_the_prompt_has_the_date_in_the_callee_timezone_and_the_claim_values() -> None:
    rig = Rig()
    rig.call.claim["email"] = "jo@example.com"
    await rig.say("Hi")
    system = rig.fast.requests[0].messages[0]
    assert system.role == "system"
    assert "Tuesday 24 November 2026, 10:00 (UTC-0500)" in (system.content or "")
    assert "America/New_York" in (system.content or "")
    assert '"value": "jo@example.com"' in (system.content or "")
    assert "Amelia" in (system.content or "") and "Contoso Insurance" in (system.content or "")


async def test_the_model_sees_only_what_the_caller_heard_after_a_barge_in() -> None:
    rig = Rig()
    rig.fast.replies = [Reply("First part of a long answer. Second part nobody heard.")]
    session = await rig.open()
    await rig.say("Tell me everything", turn_id="t1")
    await rig.time.run(
        _drain(session.handle(PlayoutReport("t1", "First part of a long answer.", True)))
    )
    await rig.say("Wait, stop", turn_id="t2")
    sent = rig.fast.requests[-1].messages
    assistant = [m.content for m in sent if m.role == "assistant"]
    assert assistant == ["First part of a long answer. [interrupted]"]
    assert "[interrupted]" in (sent[0].content or "")


async def test_history_is_trimmed_to_the_token_budget() -> None:
    rig = Rig(context_tokens=3000, max_tokens=100, max_history_messages=200)
    for n in range(30):
        rig.fast.replies.append(Reply(f"Answer number {n} " + "blah " * 30 + "."))
    session = await rig.open()
    for n in range(30):
        await rig.say(f"Question {n} " + "words " * 30, turn_id=f"t{n}")
    last = rig.fast.requests[-1].messages
    assert last[0].role == "system" and last[-1].content.startswith("Question 29")  # type: ignore[union-attr]
    assert 2 < len(last) < 60
    counter = EstimatedTokens()
    sent = sum(message_tokens(counter, m) for m in last)
    offered = tools_tokens(counter, rig.fast.requests[-1].tools)
    assert sent + offered + 100 <= 3000
    assert session.call.messages  # the transcript itself is whole


async def _drain(events):  # type: ignore[no-untyped-def]
    return [e async for e in events]


async def test_a_confirmation_without_words_is_replaced_by_a_default_phrase() -> None:
    rig = Rig()
    rig.fast.replies = [
        Reply(
            tools=[
                tool(
                    "updated_claim",
                    updates=[{"field": "description", "value": "Hit"}],
                    customer_response="{",
                )
            ]
        ),
        Reply("Thanks."),
    ]
    events = await rig.say("A truck hit me")
    assert sentences(events) == ["I'm noting that.", "Thanks."]


async def test_a_language_switch_after_the_hang_up_stores_it_and_keeps_the_call_ended() -> None:
    rig = Rig()
    rig.call.state = CallState.IN_PROGRESS
    await rig.open()
    rig.call.state = CallState.ENDED  # the dialer's hang-up lands while the model answers
    rig.fast.replies = [
        Reply(tools=[tool("speech_lang", lang="fr-FR", customer_response="Bien sûr.")]),
        Reply("Voilà."),
    ]

    await rig.say("In French please")

    assert (rig.call.state, rig.call.attempt, rig.call.lang) == (CallState.ENDED, 1, "fr-FR")


async def _sms_tool_result(sms_delivers: bool) -> str:
    rig = Rig()
    session = await rig.open()
    session.sms_delivers = sms_delivers
    rig.fast.replies = [
        Reply(tools=[tool("send_sms", message="Your claim number is 42.", customer_response="")]),
        Reply("Done."),
    ]
    await rig.say("Text me the number")
    results = [m.content or "" for m in rig.fast.requests[1].messages if m.role == "tool"]
    return results[-1]


async def test_send_sms_tells_the_model_it_was_not_sent_when_sms_are_only_logged() -> None:
    assert "NOT sent" in await _sms_tool_result(sms_delivers=False)
    assert "being sent" in await _sms_tool_result(sms_delivers=True)
