"""Keypad turns in the brain: typed digits fill the asked field; the bot presses keys."""

from __future__ import annotations

from switchboard.converse import AgentSendDtmf, AgentTurnDone, UserTurn
from switchboard.domain import ClaimField, ClaimFieldType, MessageAction, Persona
from switchboard_testing.brain_fakes import InMemoryStore, Reply, tool
from switchboard_testing.form_helpers import collect, greet, open_session, said
from switchboard_testing.llm_helpers import Rig

PHONE_FIRST = (
    ClaimField(name="callback_number", type=ClaimFieldType.PHONE_NUMBER, description="Number"),
    ClaimField(name="policy_number", type=ClaimFieldType.TEXT, description="The policy number"),
    ClaimField(name="injuries", type=ClaimFieldType.TEXT, description="Is anyone injured?"),
)
KEYPAD_HINT = "You can also type it on your keypad, then press hash."


async def test_a_national_number_typed_for_a_phone_field_is_stored_in_e164() -> None:
    store = InMemoryStore()
    store.new_call(phone_number="+33612345678", timezone="Europe/Paris", claim=PHONE_FIRST)
    session = await open_session(store)
    greeting = said(await greet(session))
    assert greeting.endswith(KEYPAD_HINT)  # said when it asks for a number

    events = await collect(session.handle(UserTurn("t1", "0698765432", keypad=True)))

    assert store.calls["call-1"].claim == {"callback_number": "+33698765432"}
    typed = next(m for m in store.calls["call-1"].messages if m.persona is Persona.HUMAN)
    assert (typed.action, typed.content) == (MessageAction.DTMF, "0698765432")
    # The policy number, a text field "number", is offered the keypad too.
    assert said(events).endswith(f"Could you tell me the policy number? {KEYPAD_HINT}")


async def test_typed_digits_fill_only_the_asked_field_not_an_open_phone_field() -> None:
    store = InMemoryStore()
    store.new_call(claim=(PHONE_FIRST[1], PHONE_FIRST[0]))  # policy number asked first
    session = await open_session(store)
    await greet(session)

    await collect(session.handle(UserTurn("t1", "2125550143", keypad=True)))

    # Spoken, "2125550143" would also read as a US phone number; typed, it answers the
    # question that was asked.
    assert store.calls["call-1"].claim == {"policy_number": "2125550143"}


async def test_a_question_about_something_else_offers_no_keypad() -> None:
    store = InMemoryStore()
    store.new_call(claim=(PHONE_FIRST[2],))
    session = await open_session(store)
    assert KEYPAD_HINT not in said(await greet(session))


async def test_the_llm_presses_keys_after_its_sentence_and_before_turn_done() -> None:
    rig = Rig()
    session = await rig.open()
    session.sends_dtmf = True  # as the dialer's start said for its line
    rig.fast.replies = [
        Reply("For claims, I'll press one.", tools=[tool("send_dtmf", digits="1")]),
        Reply(""),
    ]

    events = await rig.say("Welcome to Contoso. For claims, press one.")

    assert events[-2:] == [AgentSendDtmf("t1", "1"), AgentTurnDone("t1")]
    assert rig.fast.requests[1].messages[-1].content == (
        "The keys 1 are pressed once your sentence is said."
    )
    assert [t.name for t in rig.call.messages[-1].tool_calls] == ["send_dtmf"]


async def test_a_line_without_touch_tones_answers_the_tool_with_an_error() -> None:
    rig = Rig()  # the start did not say the line sends DTMF
    rig.fast.replies = [
        Reply(tools=[tool("send_dtmf", digits="1")]),
        Reply("I can't press keys on this line."),
    ]

    events = await rig.say("For claims, press one.")

    assert not any(isinstance(e, AgentSendDtmf) for e in events)
    result = rig.fast.requests[1].messages[-1].content or ""
    assert result.startswith("Error: this phone line cannot send touch tones")


async def test_keys_that_are_no_touch_tones_go_back_to_the_model_as_an_error() -> None:
    rig = Rig()
    session = await rig.open()
    session.sends_dtmf = True
    rig.fast.replies = [
        Reply(tools=[tool("send_dtmf", digits="one")]),
        Reply(tools=[tool("send_dtmf", digits="1" * 33)]),
        Reply("Sorry."),
    ]

    events = await rig.say("Press one.")

    assert not any(isinstance(e, AgentSendDtmf) for e in events)
    for request in rig.fast.requests[1:3]:
        result = request.messages[-1].content or ""
        assert "invalid arguments for send_dtmf: digits" in result, result


def test_the_keys_tool_is_offered_only_on_a_line_that_sends_them_for_a_menu_task() -> None:
    from switchboard_brain.policy.llm_tools import tool_specs
    from switchboard_testing.brain_fakes import call_request

    menu = call_request(task="Call the garage; press 2 at its menu for the workshop.")
    form = call_request(task="Help the customer file a claim for the water damage.")

    def offered(request: object, sends: bool) -> bool:
        return "send_dtmf" in {t.name for t in tool_specs(request, sends_dtmf=sends)}  # type: ignore[arg-type]

    assert offered(menu, sends=True)
    assert not offered(menu, sends=False)  # the line cannot press keys
    assert not offered(form, sends=True)  # one tool fewer for a model to pick by mistake
