"""AppendMessages: seq per call, idempotent per (turn_id, persona), policy state alongside."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from switchboard import domain
from switchboard.errors import InvalidArgument, NotFound
from switchboard_store.repository import CallRepository
from switchboard_testing.clock import VirtualClock

MakeRequest = Callable[..., domain.CallRequest]
HUMAN = domain.Persona.HUMAN
BOT = domain.Persona.ASSISTANT


@pytest.fixture
async def call_id(repo: CallRepository, make_request: MakeRequest) -> str:
    return (await repo.create_call(make_request(), domain.CallDirection.OUTBOUND)).call_id


async def test_messages_get_seq_one_two_three_and_the_store_time(
    repo: CallRepository, call_id: str, clock: VirtualClock
) -> None:
    stored = await repo.append_messages(
        call_id,
        [domain.Message(persona=HUMAN, content="Hi"), domain.Message(persona=BOT, content="Hello")],
    )
    more = await repo.append_messages(call_id, [domain.Message(persona=HUMAN, content="Bye")])

    assert [m.seq for m in [*stored, *more]] == [1, 2, 3]
    assert all(m.created_at == clock.now() for m in stored)
    call = await repo.get_call(call_id)
    assert [m.content for m in call.messages] == ["Hi", "Hello", "Bye"]
    assert call.last_interaction_at == clock.now()


async def test_resending_a_turn_replaces_its_message_in_place(
    repo: CallRepository, call_id: str
) -> None:
    await repo.append_messages(call_id, [domain.Message(persona=HUMAN, content="I had a crash")])
    first = await repo.append_messages(
        call_id, [domain.Message(persona=BOT, content="Sorry to hear. When?", turn_id="t1")]
    )
    await repo.append_messages(call_id, [domain.Message(persona=HUMAN, content="Yesterday")])
    cut = await repo.append_messages(
        call_id,
        [domain.Message(persona=BOT, content="Sorry to", turn_id="t1", interrupted=True)],
    )

    assert cut[0].seq == first[0].seq == 2
    call = await repo.get_call(call_id)
    assert [(m.seq, m.content, m.interrupted) for m in call.messages] == [
        (1, "I had a crash", False),
        (2, "Sorry to", True),
        (3, "Yesterday", False),
    ]


async def test_the_same_turn_id_of_another_persona_is_another_message(
    repo: CallRepository, call_id: str
) -> None:
    stored = await repo.append_messages(
        call_id,
        [
            domain.Message(persona=HUMAN, content="question", turn_id="t1"),
            domain.Message(persona=BOT, content="answer", turn_id="t1"),
        ],
    )
    assert [m.seq for m in stored] == [1, 2]


async def test_a_plain_resend_changes_nothing(repo: CallRepository, call_id: str) -> None:
    msg = domain.Message(persona=BOT, content="Hello", turn_id="t1")
    await repo.append_messages(call_id, [msg])
    events_before = await repo.events_after(call_id, 0)
    again = await repo.append_messages(call_id, [msg])

    assert again[0].seq == 1
    assert await repo.events_after(call_id, 0) == events_before
    assert len((await repo.get_call(call_id)).messages) == 1


async def test_policy_state_is_replaced_with_the_messages(
    repo: CallRepository, call_id: str
) -> None:
    await repo.append_messages(call_id, [], policy_state='{"step": 1}')
    await repo.append_messages(call_id, [domain.Message(persona=BOT, content="x")])
    assert (await repo.get_call(call_id)).policy_state == '{"step": 1}'
    await repo.append_messages(call_id, [], policy_state="")
    assert (await repo.get_call(call_id)).policy_state == ""


async def test_an_oversized_message_stores_nothing_of_the_batch(
    repo: CallRepository, call_id: str
) -> None:
    with pytest.raises(InvalidArgument, match=r"messages\[1\].content"):
        await repo.append_messages(
            call_id,
            [
                domain.Message(persona=HUMAN, content="fine"),
                domain.Message(persona=HUMAN, content="é" * 9000),
            ],
            policy_state="{}",
        )
    call = await repo.get_call(call_id)
    assert call.messages == [] and call.policy_state == ""


async def test_odd_but_valid_text_is_stored_exactly(repo: CallRepository, call_id: str) -> None:
    odd = "nul\x00 byte, emoji 📞, quote ' and \"; DROP TABLE messages; --"
    await repo.append_messages(call_id, [domain.Message(persona=HUMAN, content=odd, turn_id=odd)])
    assert (await repo.get_call(call_id)).messages[0].content == odd


async def test_messages_of_an_unknown_call_are_refused(repo: CallRepository) -> None:
    with pytest.raises(NotFound):
        await repo.append_messages(
            "00000000-0000-4000-8000-000000000000", [domain.Message(persona=HUMAN)]
        )


async def test_concurrent_appends_get_distinct_consecutive_seqs(
    repo: CallRepository, call_id: str
) -> None:
    batches = await asyncio.gather(
        *(
            repo.append_messages(call_id, [domain.Message(persona=HUMAN, content=str(i))])
            for i in range(40)
        ),
        *(repo.get_call(call_id) for _ in range(10)),
    )
    seqs = sorted(b[0].seq for b in batches[:40] if isinstance(b, list))
    assert seqs == list(range(1, 41))


async def test_a_write_whose_caller_gave_up_still_commits_and_wakes_watchers(
    repo: CallRepository, call_id: str
) -> None:
    write = asyncio.create_task(
        repo.append_messages(call_id, [domain.Message(persona=HUMAN, content="late")])
    )
    await asyncio.sleep(0)  # the write is queued on the writer thread
    write.cancel()
    woke = await asyncio.wait_for(repo.notifier.wait_beyond(call_id, 1), 5)
    assert woke
    assert [m.content for m in (await repo.get_call(call_id)).messages] == ["late"]
