"""The shared async plumbing, on the virtual clock: no test here waits real time."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import pytest

from switchboard.errors import InvalidArgument, Unavailable
from switchboard.tasks import (
    ReconnectLoop,
    TaskOwner,
    Timer,
    cancel_and_wait,
    run_duplex,
    run_until_first_ends,
    wait_on_clock,
)
from switchboard_testing.clock import VirtualClock


async def forever() -> None:
    await asyncio.Event().wait()


# Owned tasks and cancellation.


async def test_an_owners_tasks_carry_its_name_and_closing_it_cancels_them() -> None:
    owner = TaskOwner("call-1")
    first = owner.spawn(forever(), "caller")
    second = owner.spawn(forever(), "timer")
    await asyncio.sleep(0)

    assert (first.get_name(), second.get_name()) == ("call-1-caller", "call-1-timer")
    await owner.close()
    assert first.cancelled() and second.cancelled()
    assert owner.running == 0


async def test_a_failing_owned_task_is_logged_with_its_name(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def fail() -> None:
        raise InvalidArgument("bad")

    owner = TaskOwner("sip")
    with caplog.at_level(logging.ERROR, "switchboard.tasks"):
        task = owner.spawn(fail(), "reader")
        with contextlib.suppress(InvalidArgument):
            await task
        await asyncio.sleep(0)

    assert [r.__dict__.get("task") for r in caplog.records] == ["sip-reader"]


async def test_a_task_may_close_its_own_owner_without_cancelling_itself() -> None:
    owner = TaskOwner("call-1")
    other = owner.spawn(forever(), "other")

    async def close_owner() -> str:
        await owner.close()
        return "closed"

    closer = owner.spawn(close_owner(), "closer")
    assert await closer == "closed"
    assert other.cancelled()


async def test_a_task_that_ignores_cancellation_is_named_in_a_warning_not_waited_for(
    caplog: pytest.LogCaptureFixture,
) -> None:
    release = asyncio.Event()

    async def stubborn() -> None:
        while not release.is_set():
            with contextlib.suppress(asyncio.CancelledError):
                await release.wait()

    task = asyncio.create_task(stubborn(), name="stubborn")
    await asyncio.sleep(0)
    with caplog.at_level(logging.WARNING, "switchboard.tasks"):
        await cancel_and_wait([task], wait_sec=0)

    (record,) = caplog.records
    assert record.getMessage() == "tasks did not stop in time"
    assert record.__dict__["tasks"] == ["stubborn"]
    release.set()
    await task


# The duplex supervisor.


async def test_the_first_side_to_end_cancels_the_other() -> None:
    receive_cancelled = asyncio.Event()

    async def send() -> None:
        return

    async def receive() -> None:
        try:
            await forever()
        finally:
            receive_cancelled.set()

    await run_duplex("stream", send(), receive())
    assert receive_cancelled.is_set()


async def test_the_error_of_the_side_that_failed_is_raised_after_the_other_stopped() -> None:
    stopped: list[str] = []

    async def failing() -> None:
        raise Unavailable("stream reset")

    async def waiting(name: str) -> None:
        try:
            await forever()
        finally:
            stopped.append(name)

    with pytest.raises(Unavailable, match="stream reset"):
        await run_until_first_ends(
            "bridge", {"rx": failing(), "tx": waiting("tx"), "feed": waiting("feed")}
        )
    assert sorted(stopped) == ["feed", "tx"]


# The re-armable timer.


async def test_a_timer_fires_once_after_its_delay_on_the_virtual_clock() -> None:
    clock = VirtualClock()
    fired: list[float] = []
    timer = Timer("silence", lambda: fired.append(clock.monotonic()), clock)

    timer.arm(20)
    await clock.elapse(19.9)
    assert fired == [] and timer.armed
    await clock.elapse(0.1)
    assert fired == [pytest.approx(20)]
    assert not timer.armed
    await clock.elapse(100)
    assert len(fired) == 1


async def test_re_arming_a_timer_restarts_its_wait_and_disarming_stops_it() -> None:
    clock = VirtualClock()
    fired: list[float] = []
    timer = Timer("silence", lambda: fired.append(clock.monotonic()), clock)

    timer.arm(10)
    await clock.elapse(6)
    timer.arm(10)
    await clock.elapse(6)
    assert fired == []
    await clock.elapse(4)
    assert fired == [pytest.approx(16)]

    timer.arm(10)
    timer.disarm()
    await clock.elapse(20)
    assert len(fired) == 1


async def test_a_timer_may_re_arm_itself_when_it_fires() -> None:
    clock = VirtualClock()
    fired: list[float] = []

    async def again() -> None:
        fired.append(clock.monotonic())
        if len(fired) < 3:
            timer.arm(5)

    timer = Timer("retry", again, clock)
    timer.arm(5)
    for _ in range(4):
        await clock.elapse(5)
    assert fired == pytest.approx([5, 10, 15])
    await timer.close()


# Waiting on the clock.


async def test_waiting_on_the_clock_returns_the_result_that_came_in_time() -> None:
    clock = VirtualClock()
    outcome: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    waiter = asyncio.create_task(wait_on_clock(outcome, 30, clock))

    await clock.elapse(29)
    outcome.set_result("answered")
    assert await waiter == "answered"


async def test_waiting_on_the_clock_times_out_without_cancelling_the_future() -> None:
    clock = VirtualClock()
    outcome: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    waiter = asyncio.create_task(wait_on_clock(outcome, 30, clock))

    await clock.elapse(30)
    with pytest.raises(TimeoutError):
        await waiter
    assert not outcome.done()


# The reconnect loop.


def reconnect_loop(clock: VirtualClock, timeout_sec: float = 10.0) -> ReconnectLoop:
    return ReconnectLoop(
        "listen",
        timeout_sec,
        clock,
        closed_message="closed",
        gone_message="gone for good",
        backoff_start_sec=0.1,
        backoff_max_sec=0.5,
    )


async def test_a_retryable_failure_reopens_the_stream_with_a_doubling_capped_backoff() -> None:
    clock = VirtualClock()
    opened: list[tuple[float, bool]] = []
    up = asyncio.Event()

    async def open_once(reconnect: bool) -> None:
        opened.append((clock.monotonic(), reconnect))
        if len(opened) < 5:
            raise Unavailable("connection refused")
        up.set()
        await forever()

    loop = reconnect_loop(clock)
    task = asyncio.create_task(loop.run(open_once))
    await clock.run(up.wait())

    assert [t for t, _ in opened] == pytest.approx([0, 0.1, 0.3, 0.7, 1.2])
    assert [r for _, r in opened] == [False, True, True, True, True]
    assert loop.reconnects == 4
    await cancel_and_wait([task])


async def test_an_error_that_is_not_retryable_ends_the_loop_at_once() -> None:
    clock = VirtualClock()

    async def open_once(reconnect: bool) -> None:
        raise InvalidArgument("bad config")

    with pytest.raises(InvalidArgument):
        await clock.run(reconnect_loop(clock).run(open_once))


async def test_a_stream_that_stays_away_past_the_reconnect_timeout_raises_unavailable() -> None:
    clock = VirtualClock()

    async def open_once(reconnect: bool) -> None:
        raise Unavailable("connection refused")

    with pytest.raises(Unavailable, match="gone for good"):
        await clock.run(reconnect_loop(clock, timeout_sec=2).run(open_once))
    assert 2 <= clock.monotonic() < 2.6


async def test_a_stream_marked_alive_starts_a_new_outage_when_it_is_lost() -> None:
    clock = VirtualClock()
    opened: list[float] = []
    loop = reconnect_loop(clock, timeout_sec=0.5)
    eighth = asyncio.Event()

    async def open_once(reconnect: bool) -> None:
        opened.append(clock.monotonic())
        if len(opened) % 2 == 0:
            loop.alive()  # every second stream carries an event before it drops
        if len(opened) == 8:
            eighth.set()
            await forever()
        raise Unavailable("reset")

    task = asyncio.create_task(loop.run(open_once))
    await clock.run(eighth.wait())
    assert not task.done()  # never down for 0.5 s in a row
    await cancel_and_wait([task])
