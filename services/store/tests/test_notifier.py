"""The in-process event notifier: wakes watchers, and forgets old calls."""

from __future__ import annotations

import asyncio

from switchboard_store.notifier import EventNotifier


async def test_a_commit_wakes_the_watcher_of_its_call_only() -> None:
    notifier = EventNotifier()
    mine = asyncio.create_task(notifier.wait_beyond("call-a", 0))
    other = asyncio.create_task(notifier.wait_beyond("call-b", 0))
    await asyncio.sleep(0)
    notifier.publish({"call-a": 1})
    assert await asyncio.wait_for(mine, 1) is True
    assert not other.done()
    notifier.close()
    assert await asyncio.wait_for(other, 1) is False


async def test_an_event_committed_before_the_wait_is_not_waited_for() -> None:
    notifier = EventNotifier()
    notifier.publish({"call-a": 3})
    assert await asyncio.wait_for(notifier.wait_beyond("call-a", 2), 1) is True


def test_memory_is_bounded_by_the_calls_with_the_latest_commits() -> None:
    notifier = EventNotifier(remembered=3)
    for n in range(10):
        notifier.publish({f"call-{n}": 1})
    notifier.publish({"call-7": 2})  # a recent commit keeps its call remembered
    notifier.publish({"call-10": 1})
    assert [notifier.latest_seq(f"call-{n}") for n in range(11)] == [0] * 7 + [2, 0, 1, 1]
