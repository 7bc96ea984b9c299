"""Converse and Summarize over real gRPC, driven the way the dialer drives them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest

from switchboard.config import Features
from switchboard.features import FeatureFlags
from switchboard.server import GrpcService
from switchboard.v1 import brain_pb2, brain_pb2_grpc, common_pb2
from switchboard_brain.policy.form import FormPolicy
from switchboard_brain.servicer import BrainServicer, register
from switchboard_testing.brain_fakes import REFERENCE_NOW, InMemoryStore
from switchboard_testing.clock import VirtualClock

Stream = grpc.aio.StreamStreamCall  # type: ignore[type-arg]


@pytest.fixture
def store() -> InMemoryStore:
    store = InMemoryStore()
    store.new_call()
    return store


@pytest.fixture
async def brain(store: InMemoryStore) -> AsyncIterator[brain_pb2_grpc.BrainStub]:
    service = GrpcService("brain", "127.0.0.1:0", ["switchboard.v1.Brain"])
    flags = FeatureFlags(Features())
    register(service.server, BrainServicer(store, VirtualClock(REFERENCE_NOW), flags, FormPolicy()))
    port = await service.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield brain_pb2_grpc.BrainStub(channel)
    finally:
        await channel.close()
        await service.stop(0)


def start(call_id: str = "call-1", reconnect: bool = False) -> brain_pb2.ConverseRequest:
    return brain_pb2.ConverseRequest(
        start=brain_pb2.ConversationStart(call_id=call_id, reconnect=reconnect)
    )


def user_turn(turn_id: str, text: str) -> brain_pb2.ConverseRequest:
    return brain_pb2.ConverseRequest(user_turn=brain_pb2.UserTurn(turn_id=turn_id, text=text))


async def read_turn(stream: Stream) -> list[brain_pb2.ConverseResponse]:
    """Every response up to and including the turn's turn_done."""
    responses = []
    while True:
        response = await stream.read()
        assert response is not grpc.aio.EOF, "stream ended inside a turn"
        responses.append(response)
        if response.WhichOneof("event") == "turn_done":
            return responses


def text_of(responses: list[brain_pb2.ConverseResponse]) -> str:
    return " ".join(r.sentence.text for r in responses if r.WhichOneof("event") == "sentence")


async def test_the_greeting_is_streamed_sentence_by_sentence_then_turn_done(
    brain: brain_pb2_grpc.BrainStub,
) -> None:
    stream = brain.Converse()
    await stream.write(start())

    greeting = await read_turn(stream)

    sentences = [r.sentence for r in greeting[:-2]]
    assert [s.index for s in sentences] == list(range(len(sentences)))
    assert {s.turn_id for s in sentences} == {greeting[-1].turn_done.turn_id}
    assert sentences[-1].text == "When did the incident happen?"
    # What the question asks for, for the speech service's endpointing, before turn_done.
    expect = greeting[-2].expect_answer
    assert expect.turn_id == greeting[-1].turn_done.turn_id
    assert expect.answer.type == common_pb2.CLAIM_FIELD_TYPE_DATETIME
    assert expect.answer.region == "US"
    await stream.done_writing()


async def test_a_first_message_that_is_not_start_is_an_invalid_argument(
    brain: brain_pb2_grpc.BrainStub,
) -> None:
    stream = brain.Converse()
    await stream.write(user_turn("t1", "hello"))

    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await stream.read()

    assert failure.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "start" in (failure.value.details() or "")


async def test_an_unknown_call_is_not_found(brain: brain_pb2_grpc.BrainStub) -> None:
    stream = brain.Converse()
    await stream.write(start("no-such-call"))

    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await stream.read()

    assert failure.value.code() is grpc.StatusCode.NOT_FOUND


async def test_an_answer_is_stored_before_it_is_streamed(
    brain: brain_pb2_grpc.BrainStub, store: InMemoryStore
) -> None:
    stream = brain.Converse()
    await stream.write(start())
    await read_turn(stream)

    await stream.write(user_turn("t1", "yesterday at 3 pm"))
    answer = await read_turn(stream)

    assert text_of(answer).startswith("Got it, the 23rd of November 2026 at 3 pm.")
    stored = [m for m in store.calls["call-1"].messages if m.turn_id == "t1"]
    assert [m.persona.value for m in stored] == ["human", "assistant"]
    assert stored[1].content == text_of(answer)
    await stream.done_writing()


async def test_after_a_reconnect_a_resent_turn_replays_the_stored_answer(
    brain: brain_pb2_grpc.BrainStub, store: InMemoryStore
) -> None:
    first = brain.Converse()
    await first.write(start())
    await read_turn(first)
    await first.write(user_turn("t1", "yesterday"))
    original = await read_turn(first)
    first.cancel()  # the brain replica "died" after answering

    second = brain.Converse()
    await second.write(start(reconnect=True))
    await second.write(user_turn("t1", "yesterday"))
    replayed = await read_turn(second)

    assert [r.SerializeToString() for r in replayed] == [r.SerializeToString() for r in original]
    assert len(store.claim_updates) == 1
    await second.done_writing()
    assert await second.read() is grpc.aio.EOF


async def test_a_value_the_store_rejects_is_asked_again(
    brain: brain_pb2_grpc.BrainStub, store: InMemoryStore
) -> None:
    stream = brain.Converse()
    await stream.write(start())
    await read_turn(stream)
    await stream.write(user_turn("t1", "yesterday"))
    await read_turn(stream)

    await stream.write(user_turn("t2", "john dot dot smith at example dot com"))
    retry = await read_turn(stream)

    assert text_of(retry).startswith("Sorry, I didn't quite get that.")
    assert "e-mail address" in text_of(retry)
    assert "email" not in store.calls["call-1"].claim
    await stream.done_writing()


async def test_asking_for_a_human_transfers_after_the_sentences(
    brain: brain_pb2_grpc.BrainStub,
) -> None:
    stream = brain.Converse()
    await stream.write(start())
    await read_turn(stream)

    await stream.write(user_turn("t1", "can I speak to a real person"))
    answer = await read_turn(stream)

    kinds = [r.WhichOneof("event") for r in answer]
    assert kinds[-2:] == ["transfer", "turn_done"]
    assert answer[-2].transfer.target == "+12125550199"
    assert answer[-2].transfer.turn_id == "t1"
    await stream.done_writing()


async def test_silence_gets_a_filler_and_a_hangup_ends_the_stream(
    brain: brain_pb2_grpc.BrainStub,
) -> None:
    stream = brain.Converse()
    await stream.write(start())
    await read_turn(stream)

    await stream.write(brain_pb2.ConverseRequest(silence=brain_pb2.SilenceTimeout(count=1)))
    nudge = await read_turn(stream)
    await stream.write(brain_pb2.ConverseRequest(hangup=brain_pb2.CallerHangup(reason="caller")))

    assert [(r.sentence.text, r.sentence.filler) for r in nudge[:-1]] == [
        ("Are you still there?", True)
    ]
    assert await stream.read() is grpc.aio.EOF
    assert await stream.code() is grpc.StatusCode.OK


async def test_a_barge_in_report_cuts_the_stored_turn_to_what_was_heard(
    brain: brain_pb2_grpc.BrainStub, store: InMemoryStore
) -> None:
    stream = brain.Converse()
    await stream.write(start())
    greeting = await read_turn(stream)
    turn_id = greeting[-1].turn_done.turn_id

    await stream.write(
        brain_pb2.ConverseRequest(
            heard=brain_pb2.PlayoutReport(turn_id=turn_id, heard_text="Hello,", interrupted=True)
        )
    )
    await stream.write(user_turn("t1", "yesterday"))
    await read_turn(stream)

    (cut,) = [m for m in store.calls["call-1"].messages if m.turn_id == turn_id]
    assert (cut.content, cut.interrupted) == ("Hello,", True)
    await stream.done_writing()


async def test_summarize_saves_and_returns_the_post_call_report(
    brain: brain_pb2_grpc.BrainStub, store: InMemoryStore
) -> None:
    stream = brain.Converse()
    await stream.write(start())
    await read_turn(stream)
    for turn_id, text in [
        ("t1", "yesterday"),
        ("t2", "john at example dot com"),
        ("t3", "four one five five five five zero one zero zero"),
        ("t4", "a truck hit my car"),
    ]:
        await stream.write(user_turn(turn_id, text))
        await read_turn(stream)
    await stream.done_writing()

    report = await brain.Summarize(brain_pb2.SummarizeRequest(call_id="call-1"))

    assert report.next_action.action == "case_closed"
    assert report.synthesis.satisfaction == "high"
    assert report.synthesis.short.startswith("the ")
    assert store.calls["call-1"].sms_summary == report.sms_summary


async def test_summarize_of_an_unknown_call_is_not_found(brain: brain_pb2_grpc.BrainStub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await brain.Summarize(brain_pb2.SummarizeRequest(call_id="nope"))
    assert failure.value.code() is grpc.StatusCode.NOT_FOUND
