"""The one virtual clock: sleepers wake only when a test moves time."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from switchboard_testing.clock import VIRTUAL_START, VirtualClock


async def test_the_virtual_clock_wakes_only_the_sleepers_whose_time_has_come() -> None:
    clock = VirtualClock()
    woke: list[str] = []

    async def nap(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append(name)

    tasks = [asyncio.create_task(nap("short", 1)), asyncio.create_task(nap("long", 3))]
    await clock.elapse(2)
    assert woke == ["short"]
    assert clock.now() == VIRTUAL_START + timedelta(seconds=2)
    await clock.elapse(1)
    assert woke == ["short", "long"]
    await asyncio.gather(*tasks)


async def test_running_on_the_virtual_clock_jumps_over_idle_time() -> None:
    clock = VirtualClock()

    async def conversation() -> float:
        await clock.sleep(20)
        await clock.sleep(10)
        return clock.monotonic()

    assert await clock.run(conversation()) == 30


async def test_advancing_by_hand_releases_a_sleeper_without_running_the_loop() -> None:
    clock = VirtualClock()
    woke: list[float] = []

    async def nap() -> None:
        await clock.sleep(5)
        woke.append(clock.monotonic())

    task = asyncio.create_task(nap())
    await clock.settle()
    clock.advance(5)
    assert woke == []  # released, not yet run
    await task
    assert woke == [5]


async def test_running_with_nothing_left_to_wake_is_reported_as_a_deadlock() -> None:
    clock = VirtualClock()

    stuck = asyncio.ensure_future(asyncio.Event().wait())

    with pytest.raises(AssertionError, match="deadlock"):
        await clock.run(stuck)
    stuck.cancel()
