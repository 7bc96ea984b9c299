"""WatchCall: replay of stored events, then live ones, ending cleanly on shutdown."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from switchboard import domain
from switchboard.errors import InvalidArgument, NotFound
from switchboard_store.repository import CallEvent, CallRepository, ClaimChange

MakeRequest = Callable[..., domain.CallRequest]
STEP_SEC = 5.0


@pytest.fixture
async def call_id(repo: CallRepository, make_request: MakeRequest) -> str:
    return (await repo.create_call(make_request(), domain.CallDirection.OUTBOUND)).call_id


async def test_every_change_is_an_event_in_commit_order(repo: CallRepository, call_id: str) -> None:
    await repo.set_call_state(call_id, domain.CallState.IN_PROGRESS)
    await repo.append_messages(
        call_id, [domain.Message(persona=domain.Persona.ASSISTANT, content="Hi", turn_id="t")]
    )
    await repo.append_messages(
        call_id,
        [
            domain.Message(
                persona=domain.Persona.ASSISTANT, content="H", turn_id="t", interrupted=True
            )
        ],
    )
    await repo.update_claim(call_id, [("description", "dent"), ("email", "a@example.com")])
    await repo.upsert_reminder(call_id, domain.Reminder(title="Send the form"))
    await repo.save_synthesis(
        call_id, domain.Synthesis(short="a dent"), domain.NextAction(action="case_closed")
    )

    events = await repo.events_after(call_id, 0)
    assert [e.seq for e in events] == list(range(1, 10))
    kinds = [e.payload for e in events]
    assert kinds[0] == domain.CallState.CREATED
    assert kinds[1] == domain.CallState.IN_PROGRESS
    assert isinstance(kinds[2], domain.Message) and kinds[2].action == domain.MessageAction.CALL
    assert isinstance(kinds[3], domain.Message) and kinds[3].content == "Hi"
    assert isinstance(kinds[4], domain.Message) and kinds[4].seq == kinds[3].seq
    assert kinds[4].interrupted
    assert kinds[5:7] == [ClaimChange("description", "dent"), ClaimChange("email", "a@example.com")]
    assert isinstance(kinds[7], domain.Reminder)
    assert isinstance(kinds[8], domain.Synthesis)


async def test_a_watcher_gets_the_replay_after_its_seq_then_live_events(
    repo: CallRepository, call_id: str
) -> None:
    await repo.set_call_state(call_id, domain.CallState.DIALING)
    received: list[CallEvent] = []
    replayed = asyncio.Event()
    done = asyncio.Event()

    async def watch() -> None:
        async for event in repo.watch_call(call_id, after_seq=1):
            received.append(event)
            if event.seq == 2:
                replayed.set()
            if event.seq == 3:
                done.set()
                return

    async with asyncio.TaskGroup() as tasks:
        tasks.create_task(watch(), name="watcher")
        await asyncio.wait_for(replayed.wait(), STEP_SEC)
        await repo.set_call_state(call_id, domain.CallState.RINGING)
        await asyncio.wait_for(done.wait(), STEP_SEC)

    assert [(e.seq, e.payload) for e in received] == [
        (2, domain.CallState.DIALING),
        (3, domain.CallState.RINGING),
    ]


async def test_watchers_end_when_the_repository_closes(repo: CallRepository, call_id: str) -> None:
    received: list[int] = []

    async def watch() -> None:
        async for event in repo.watch_call(call_id):
            received.append(event.seq)

    task = asyncio.create_task(watch(), name="watcher")
    await asyncio.sleep(0.1)
    await repo.close()
    await asyncio.wait_for(task, STEP_SEC)
    assert received == [1]


async def test_watching_an_unknown_or_malformed_call_fails(repo: CallRepository) -> None:
    with pytest.raises(NotFound):
        await anext(repo.watch_call("00000000-0000-4000-8000-000000000000"))
    with pytest.raises(InvalidArgument):
        await anext(repo.watch_call("nope"))
