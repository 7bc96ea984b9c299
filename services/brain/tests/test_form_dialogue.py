"""The form policy over a whole dialogue, through the session and an in-memory store."""

from __future__ import annotations

import json
import statistics
import time

import pytest

from switchboard.converse import (
    AgentSentence,
    AgentTransfer,
    AgentTurnDone,
    CallTimeUp,
    ConversationStart,
    EndCallRequest,
    PlayoutReport,
    SilenceTimeout,
)
from switchboard.domain import ClaimField, ClaimFieldType, Message, MessageAction, Persona
from switchboard.errors import Unavailable
from switchboard_brain.policy.base import DRAINED
from switchboard_brain.policy.form import FormPolicy
from switchboard_testing.brain_fakes import InMemoryStore
from switchboard_testing.form_helpers import collect, open_session, said, turn


async def test_a_complete_dialogue_fills_every_field_then_recaps_and_ends_the_call() -> None:
    store = InMemoryStore()
    store.new_call()
    session = await open_session(store)

    greeting = await collect(session.start(ConversationStart("call-1")))
    assert said(greeting).startswith("Hello, this is Amelia from Contoso Insurance.")
    assert "I'm calling to collect the details of a car insurance claim." in said(greeting)
    assert said(greeting).endswith("When did the incident happen?")
    assert isinstance(greeting[-1], AgentTurnDone)

    answer = await turn(session, "t1", "last Monday at half past four")
    assert said(answer).startswith("Got it, the 23rd of November 2026 at 4:30 pm.")
    assert said(answer).endswith("Could you tell me your e-mail address?")
    assert store.calls["call-1"].claim["incident_datetime"] == "2026-11-23T16:30:00-05:00"

    answer = await turn(session, "t2", "john dot smith at example dot com")
    assert "Got it, john.smith@example.com." in said(answer)
    answer = await turn(session, "t3", "four one five five five five zero one zero zero")
    assert "Got it, plus 1, 4 1 5, 5 5 5, 0 1 0 0." in said(answer)
    answer = await turn(session, "t4", "Um, a truck hit my parked car.")
    assert "To sum up, I noted" in said(answer)
    assert said(answer).endswith("Is there anything else I can do for you?")
    assert not any(isinstance(e, EndCallRequest) for e in answer)

    closing = await turn(session, "t5", "No, thank you.")

    assert said(closing).endswith("goodbye!")
    assert "To sum up" not in said(closing)
    assert closing[-2:] == [EndCallRequest("t5", "claim_complete"), AgentTurnDone("t5")]
    assert store.calls["call-1"].claim == {
        "incident_datetime": "2026-11-23T16:30:00-05:00",
        "email": "john.smith@example.com",
        "callback_phone": "+14155550100",
        "description": "a truck hit my parked car.",
    }


async def test_an_email_heard_again_while_the_description_is_asked_is_not_filed_as_it() -> None:
    """After a speech restart the caller's e-mail may arrive again (re-transcribed, or
    repeated) when the form has moved on to the description: it stays the e-mail."""
    store = InMemoryStore()
    store.new_call()
    session = await open_session(store)
    await collect(session.start(ConversationStart("call-1")))
    await turn(session, "t1", "last Monday at half past four")
    await turn(session, "t2", "john dot smith at example dot com")
    asked = await turn(session, "t3", "four one five five five five zero one zero zero")
    assert said(asked).endswith("what happened, in a few words?")

    again = await turn(session, "t4", "It's john dot smith at example dot com.")

    assert "description" not in store.calls["call-1"].claim
    assert "what happened" in said(again).lower()  # the description is asked again
    await turn(session, "t5", "A truck hit my parked car.")
    assert store.calls["call-1"].claim["description"] == "A truck hit my parked car."
    assert store.calls["call-1"].claim["email"] == "john.smith@example.com"


async def test_each_turn_stores_the_caller_then_the_agent_with_the_policy_state() -> None:
    store = InMemoryStore()
    store.new_call()
    session = await open_session(store)
    await collect(session.start(ConversationStart("call-1")))
    store.appends.clear()

    events = await turn(session, "t1", "yesterday")

    (human, _), (agent, state) = store.appends
    assert [(m.persona, m.action, m.turn_id) for m in human] == [
        (Persona.HUMAN, MessageAction.TALK, "t1")
    ]
    assert agent[0].persona is Persona.ASSISTANT and agent[0].turn_id == "t1"
    assert agent[0].content == said(events)
    assert state is not None and json.loads(state)["field"] == "email"


async def test_an_unparseable_answer_is_asked_again_then_skipped_after_the_retry_limit() -> None:
    store = InMemoryStore()
    store.new_call()
    session = await open_session(store, retry_max=3)
    await collect(session.start(ConversationStart("call-1")))

    first = await turn(session, "t1", "banana")
    assert said(first).startswith("Sorry, I didn't quite get that. When did the incident happen?")
    second = await turn(session, "t2", "purple")
    assert said(second).startswith("Sorry, I still didn't get that.")
    third = await turn(session, "t3", "still nothing")

    assert "let's move on" in said(third)
    assert said(third).endswith("Could you tell me your e-mail address?")
    assert "incident_datetime" in json.loads(store.calls["call-1"].policy_state)["skipped"]


async def test_i_dont_know_skips_the_field() -> None:
    store = InMemoryStore()
    store.new_call()
    session = await open_session(store)
    await collect(session.start(ConversationStart("call-1")))

    events = await turn(session, "t1", "I don't remember")

    assert said(events) == "No problem, let's skip that. Could you tell me your e-mail address?"


async def test_can_you_repeat_asks_the_last_question_again() -> None:
    store = InMemoryStore()
    store.new_call()
    session = await open_session(store)
    await collect(session.start(ConversationStart("call-1")))

    events = await turn(session, "t1", "sorry, can you repeat?")

    assert said(events) == "Of course. When did the incident happen?"


async def test_asking_for_a_person_says_so_then_transfers_to_the_agent_number() -> None:
    store = InMemoryStore()
    store.new_call()
    session = await open_session(store)
    await collect(session.start(ConversationStart("call-1")))

    events = await turn(session, "t1", "I want to talk to a person")

    assert "connect you with a colleague" in said(events)
    assert events[-2:] == [AgentTransfer("t1", "+12125550199"), AgentTurnDone("t1")]


async def test_asking_for_a_person_on_a_line_without_agents_takes_a_message_instead() -> None:
    store = InMemoryStore()
    store.new_call(agent_phone_number="")
    session = await open_session(store)
    await collect(session.start(ConversationStart("call-1")))

    events = await turn(session, "t1", "I want to talk to a person")

    assert "no colleague can take the call" in said(events)
    assert not [e for e in events if isinstance(e, AgentTransfer)]
    assert "When did the incident happen?" in said(events)  # the call goes on


async def test_goodbye_recaps_what_was_collected_and_ends_the_call() -> None:
    store = InMemoryStore()
    store.new_call()
    session = await open_session(store)
    await collect(session.start(ConversationStart("call-1")))
    await turn(session, "t1", "yesterday")

    events = await turn(session, "t2", "that's all, bye")

    assert "To sum up, I noted" in said(events)
    assert "We still need" in said(events)
    assert events[-2] == EndCallRequest("t2", "caller_goodbye")


async def test_a_value_the_store_rejects_is_treated_as_not_understood() -> None:
    store = InMemoryStore()
    store.new_call()
    session = await open_session(store)
    await collect(session.start(ConversationStart("call-1")))
    await turn(session, "t1", "yesterday")

    events = await turn(session, "t2", "john dot dot smith at example dot com")

    assert said(events).startswith("Sorry, I didn't quite get that.")
    assert "email" not in store.calls["call-1"].claim


async def test_a_resumed_call_asks_before_continuing_with_the_next_unfilled_field() -> None:
    store = InMemoryStore()
    call = store.new_call()
    call.claim["incident_datetime"] = "2026-11-23T00:00:00-05:00"
    call.messages.append(Message(persona=Persona.HUMAN, content="yesterday", turn_id="old-1"))
    session = await open_session(store)

    events = await collect(session.start(ConversationStart("call-1")))

    assert said(events).startswith("Welcome back, this is Amelia from Contoso Insurance.")
    assert "We were talking about this: collect the details of a car insurance claim." in said(
        events
    )
    assert said(events).endswith("Shall we continue where we left off?")
    answer = await turn(session, "t1", "yes please")
    assert said(answer) == "Thank you. Could you tell me your e-mail address?"
    assert "email" not in store.calls["call-1"].claim


def _resumed_with_every_value(store: InMemoryStore) -> None:
    call = store.new_call()
    call.claim.update(
        {
            "incident_datetime": "2026-11-23T16:30:00-05:00",
            "email": "victim@example.com",
            "callback_phone": "+14155550123",
            "description": "A pipe burst in the kitchen and flooded the flat.",
        }
    )
    call.messages.append(Message(persona=Persona.HUMAN, content="yesterday", turn_id="old-1"))


@pytest.mark.parametrize("answer", ["yes", "goodbye", "no", "what did I tell you?"])
async def test_a_resumed_caller_never_hears_a_stored_value_whatever_they_answer(
    answer: str,
) -> None:
    store = InMemoryStore()
    _resumed_with_every_value(store)
    session = await open_session(store)

    spoken = said(await collect(session.start(ConversationStart("call-1"))))
    spoken += " " + said(await turn(session, "t1", answer))
    spoken += " " + said(await turn(session, "t2", "goodbye"))

    for value in ("victim", "example", "pipe", "kitchen", "23rd", "November", "4:30", "0 1 2 3"):
        assert value not in spoken, spoken
    assert "goodbye!" in spoken


async def test_a_resumed_caller_who_says_no_is_told_goodbye_and_the_call_ends() -> None:
    store = InMemoryStore()
    _resumed_with_every_value(store)
    session = await open_session(store)
    await collect(session.start(ConversationStart("call-1")))

    events = await turn(session, "t1", "no, wrong number")

    assert said(events).startswith("All right.")
    assert EndCallRequest("t1", "caller_declined") in events


async def test_a_reconnect_emits_nothing_and_a_resent_turn_replays_the_stored_answer() -> None:
    store = InMemoryStore()
    store.new_call()
    first = await open_session(store)
    await collect(first.start(ConversationStart("call-1")))
    original = await turn(first, "t1", "yesterday")

    second = await open_session(store)
    assert await collect(second.start(ConversationStart("call-1", reconnect=True))) == []
    replayed = await turn(second, "t1", "yesterday")

    assert replayed == original
    assert len(store.claim_updates) == 1


async def test_silence_asks_if_the_caller_is_there_then_says_goodbye_at_the_retry_limit() -> None:
    store = InMemoryStore()
    store.new_call()
    session = await open_session(store, retry_max=2)
    await collect(session.start(ConversationStart("call-1")))
    appended = len(store.appends)

    nudge = await collect(session.handle(SilenceTimeout(1)))
    assert [(e.text, e.filler) for e in nudge if isinstance(e, AgentSentence)] == [
        ("Are you still there?", True)
    ]
    assert len(store.appends) == appended  # fillers are not history

    final = await collect(session.handle(SilenceTimeout(2)))
    assert "goodbye" in said(final)
    assert isinstance(final[-2], EndCallRequest) and final[-2].reason == "caller_silent"


async def test_a_playout_report_cuts_the_stored_agent_message_to_what_was_heard() -> None:
    store = InMemoryStore()
    store.new_call()
    session = await open_session(store)
    greeting = await collect(session.start(ConversationStart("call-1")))
    turn_id = greeting[0].turn_id

    await collect(session.handle(PlayoutReport(turn_id, "Hello, this is", interrupted=True)))

    (agent,) = [m for m in store.calls["call-1"].messages if m.turn_id == turn_id]
    assert (agent.content, agent.interrupted) == ("Hello, this is", True)


async def test_a_form_turn_takes_well_under_two_milliseconds() -> None:
    store = InMemoryStore()
    store.new_call()
    session = await open_session(store)
    policy = FormPolicy()
    await collect(session.start(ConversationStart("call-1")))
    timings = []
    for text in ["last Monday at half past four", "I'm not sure", "what?", "banana"] * 50:
        ctx = session._context()
        started = time.perf_counter()
        await policy.answer(ctx, text)
        timings.append(time.perf_counter() - started)
    assert statistics.median(timings) < 0.002


class StoreThatDiesBeforeTheReply(InMemoryStore):
    """Fails the first write of an agent message, as a crash right after the claim update."""

    def __init__(self) -> None:
        super().__init__()
        self.armed = False

    async def append_messages(
        self, call_id: str, messages: list[Message], policy_state: str | None = None
    ) -> list[Message]:
        if self.armed and any(m.persona is Persona.ASSISTANT for m in messages):
            self.armed = False
            raise Unavailable("store connection lost")
        return await super().append_messages(call_id, messages, policy_state)


async def test_a_turn_resent_after_a_crash_between_claim_and_reply_fills_the_same_field() -> None:
    store = StoreThatDiesBeforeTheReply()
    store.new_call()
    first = await open_session(store)
    await collect(first.start(ConversationStart("call-1")))
    store.armed = True
    with pytest.raises(Unavailable):
        await turn(first, "t1", "yesterday")
    assert "incident_datetime" in store.calls["call-1"].claim

    second = await open_session(store)
    await collect(second.start(ConversationStart("call-1", reconnect=True)))
    events = await turn(second, "t1", "yesterday")

    assert said(events).startswith("Got it, the 23rd of November 2026.")
    assert said(events).endswith("Could you tell me your e-mail address?")
    human = [m for m in store.calls["call-1"].messages if m.persona is Persona.HUMAN]
    assert [m.turn_id for m in human] == ["t1"]


async def test_the_bundled_demo_dialogue_fills_the_whole_claim_in_california() -> None:
    store = InMemoryStore()
    store.new_call(
        phone_number="+14155550123",
        timezone="",
        task="Help the customer file a claim for the water damage in their kitchen.",
        claim=(
            ClaimField(name="incident_datetime", type=ClaimFieldType.DATETIME, description="when"),
            ClaimField(name="incident_description", type=ClaimFieldType.TEXT, description="what"),
            ClaimField(name="policyholder_email", type=ClaimFieldType.EMAIL, description="mail"),
            ClaimField(name="callback_number", type=ClaimFieldType.PHONE_NUMBER, description="nr"),
        ),
    )
    session = await open_session(store)
    await collect(session.start(ConversationStart("call-1")))
    lines = [
        "It happened on March 3rd 2026 at 2:30 pm.",
        "A pipe burst under the sink and flooded the kitchen floor.",
        "It's john dot smith at example dot com.",
        "You can call me at four one five, five five five, zero one nine eight.",
        "No, that's all, thank you. Goodbye!",
    ]
    for index, line in enumerate(lines):
        events = await turn(session, f"t{index}", line)

    assert events[-2] == EndCallRequest("t4", "claim_complete")
    assert store.calls["call-1"].claim == {
        "incident_datetime": "2026-03-03T14:30:00-08:00",
        "incident_description": "A pipe burst under the sink and flooded the kitchen floor.",
        "policyholder_email": "john.smith@example.com",
        "callback_number": "+14155550198",
    }


async def test_a_short_dialogue_never_says_the_same_sentence_twice() -> None:
    store = InMemoryStore()
    store.new_call(claim=CLAIM_OF_THREE)
    session = await open_session(store)
    spoken = said(await collect(session.start(ConversationStart("call-1")))).split(". ")
    lines = [
        "It happened on the third of March at 10 am.",
        "A tree fell on the fence.",
        "mary at example dot com",
        "goodbye",
    ]
    for index, line in enumerate(lines):
        spoken += said(await turn(session, f"t{index}", line)).split(". ")

    assert len(spoken) == len(set(spoken))
    agent_turns = [m for m in store.calls["call-1"].messages if m.persona is Persona.ASSISTANT]
    assert len(agent_turns) == len(lines) + 1
    assert store.calls["call-1"].claim["incident_datetime"] == "2026-03-03T10:00:00-05:00"


CLAIM_OF_THREE = (
    ClaimField(name="incident_datetime", type=ClaimFieldType.DATETIME, description="when"),
    ClaimField(name="incident_description", type=ClaimFieldType.TEXT, description="what"),
    ClaimField(name="policyholder_email", type=ClaimFieldType.EMAIL, description="your e-mail"),
)


async def test_when_the_calls_time_is_up_the_brain_says_and_stores_the_goodbye_and_ends_it() -> (
    None
):
    store = InMemoryStore()
    store.new_call()
    session = await open_session(store)
    await collect(session.start(ConversationStart("call-1")))

    events = await collect(session.handle(CallTimeUp()))

    assert "reached its time limit" in said(events)
    (sentence,) = [e for e in events if isinstance(e, AgentSentence)]
    assert events[-2:] == [
        EndCallRequest(sentence.turn_id, "max_duration"),
        AgentTurnDone(sentence.turn_id),
    ]
    stored = store.calls["call-1"].messages[-1]
    assert (stored.persona, stored.content) == (Persona.ASSISTANT, sentence.text)


async def test_a_draining_dialers_time_up_gets_its_own_goodbye_and_ends_the_call_drained() -> None:
    store = InMemoryStore()
    store.new_call()
    session = await open_session(store)
    await collect(session.start(ConversationStart("call-1")))

    events = await collect(session.handle(CallTimeUp("drained")))

    assert said(events) == DRAINED
    (sentence,) = [e for e in events if isinstance(e, AgentSentence)]
    assert events[-2:] == [
        EndCallRequest(sentence.turn_id, "drained"),
        AgentTurnDone(sentence.turn_id),
    ]
    stored = store.calls["call-1"].messages[-1]
    assert (stored.persona, stored.content) == (Persona.ASSISTANT, DRAINED)
