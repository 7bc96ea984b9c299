"""The llm policy over the fallback chat model: fillers per model, rounds after a switch."""

from __future__ import annotations

from switchboard.converse import AgentSentence
from switchboard_testing.brain_fakes import Reply, provider_down, tool
from switchboard_testing.llm_helpers import Rig, sentences


async def test_each_model_the_turn_falls_back_to_gets_its_own_filler() -> None:
    rig = Rig(slow_model="slow")
    rig.fast.replies = [Reply("Too late.", delay=60.0)]
    rig.slow.replies = [Reply("Here it is.", delay=6.0)]
    events = await rig.say("What's my status?")
    fillers = [(t, e.text) for t, e in rig.arrivals if isinstance(e, AgentSentence) and e.filler]
    soft, hard = rig.features.answer_soft_timeout_sec, rig.features.answer_hard_timeout_sec
    assert fillers == [(soft, "One moment, please."), (hard + soft, "Still checking, one moment.")]
    assert sentences(events, filler=False) == ["Here it is."]


async def test_after_a_switch_the_turns_later_rounds_go_to_the_model_that_answered() -> None:
    rig = Rig(slow_model="slow")
    rig.fast.replies = [Reply(error=provider_down()), Reply("The fast model again.")]
    rig.slow.replies = [
        Reply(
            tools=[
                tool(
                    "updated_claim",
                    updates=[{"field": "description", "value": "Flooded"}],
                    customer_response="Noted.",
                )
            ]
        ),
        Reply("The slow model carries on."),
    ]
    events = await rig.say("My basement flooded")
    assert sentences(events) == ["Noted.", "The slow model carries on."]
    assert len(rig.fast.requests) == 1


async def test_a_turn_that_spoke_and_then_stalled_ends_with_an_apology() -> None:
    rig = Rig(slow_model="slow")
    rig.fast.replies = [Reply("First part. The rest never comes.", pause_after_first_sentence=99.0)]
    events = await rig.say("Tell me")
    assert sentences(events) == ["First part.", "Sorry, could you say that again?"]
    stalled_at = max(t for t, _ in rig.arrivals)
    assert stalled_at == rig.features.answer_hard_timeout_sec
    assert not rig.slow.requests
