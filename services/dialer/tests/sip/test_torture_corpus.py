"""The torture corpus (RFC 4475 kinds): each message handled or refused, never a crash.

A legitimate call beside the corpus keeps its media at 50 packets a second.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from switchboard_dialer.telephony.sip import SipCall, SipEndpoint
from switchboard_testing.sip_endpoints import EndpointFactory
from switchboard_testing.sip_peers import HOST
from switchboard_testing.torture_corpus import BAD, DROP, INVALID, VALID, Case

REPLY_WINDOW_SEC = 0.4


class Failures:
    """Exceptions the event loop saw and errors the SIP stack logged during a test."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def loop_handler(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        self.seen.append(f"event loop: {context.get('message')} {context.get('exception')!r}")


class _ErrorLog(logging.Handler):
    def __init__(self, failures: Failures) -> None:
        super().__init__(logging.ERROR)
        self.failures = failures

    def emit(self, record: logging.LogRecord) -> None:
        self.failures.seen.append(f"log: {record.getMessage()} {record.exc_info!r}")


@pytest.fixture
def failures() -> Iterator[Failures]:
    """Collects errors; each test also gives the event loop its handler."""
    found = Failures()
    handler = _ErrorLog(found)
    logger = logging.getLogger("switchboard_dialer")
    logger.addHandler(handler)
    yield found
    logger.removeHandler(handler)


def _exchange(port: int, datagram: bytes, window: float = REPLY_WINDOW_SEC) -> list[bytes]:
    """Sends one datagram; returns the replies until a final one (or the window ends)."""
    replies: list[bytes] = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((HOST, 0))
        sock.settimeout(window)
        sock.sendto(datagram, (HOST, port))
        while True:
            try:
                reply = sock.recv(65535)
            except TimeoutError:
                return replies
            replies.append(reply)
            if _status(reply) >= 200:
                return replies


def _status(reply: bytes) -> int:
    parts = reply.split(b" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


async def _refuse_callers(
    endpoint: SipEndpoint, keep: str = "", kept: asyncio.Future[SipCall] | None = None
) -> None:
    """Plays the app: the call ``keep`` goes to ``kept``; every other caller is busy."""
    while True:
        call = await endpoint.inbound.get()
        if call.call_id == keep and kept is not None:
            kept.set_result(call)
        else:
            call.reject(486)


def _check(case: Case, replies: list[bytes]) -> None:
    statuses = [_status(r) for r in replies]
    assert 500 not in statuses, (case.name, replies)
    finals = [s for s in statuses if s >= 200]
    if case.expect == DROP:
        assert replies == [], (case.name, replies)
    elif case.expect == BAD:
        assert finals in ([], [400]) and 100 not in statuses, (case.name, replies)
    else:
        assert finals and finals[0] in case.expect, (case.name, replies)
        assert 400 not in statuses, (case.name, replies)


@pytest.mark.parametrize("case", VALID + INVALID, ids=lambda case: case.name.split(":")[0])
async def test_every_torture_message_is_handled_or_refused_and_nothing_crashes(
    make_endpoint: EndpointFactory, failures: Failures, case: Case
) -> None:
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(failures.loop_handler)
    bot = await make_endpoint(user="bot")
    receptionist = asyncio.create_task(_refuse_callers(bot), name="test-receptionist")
    try:
        datagram = case.render(HOST, bot.local_port, secrets.token_hex(6))
        replies = await asyncio.to_thread(_exchange, bot.local_port, datagram)
        _check(case, replies)
        await asyncio.sleep(0.05)
        assert failures.seen == []
    finally:
        receptionist.cancel()


async def test_a_call_keeps_50_packets_a_second_while_the_corpus_is_thrown_at_both_ends(
    make_endpoint: EndpointFactory, failures: Failures
) -> None:
    asyncio.get_running_loop().set_exception_handler(failures.loop_handler)
    alice = await make_endpoint(user="alice")
    bot = await make_endpoint(user="bot")
    call = await alice.call(f"sip:bot@{HOST}:{bot.local_port}")
    kept: asyncio.Future[SipCall] = asyncio.get_running_loop().create_future()
    receptionist = asyncio.create_task(
        _refuse_callers(bot, call.call_id, kept), name="test-receptionist"
    )
    try:
        taken = await asyncio.wait_for(kept, 3)
        await taken.answer()
        await asyncio.wait_for(call.wait_answered(), 3)
        await asyncio.sleep(0.3)  # past the RTP source's probation

        stop = threading.Event()

        def throw_corpus() -> int:
            """The whole corpus at both ends every 100 ms (about 1,200 datagrams a second)."""
            sent = 0
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                sock.bind((HOST, 0))
                while not stop.is_set():
                    for case in VALID + INVALID:
                        for target in (bot, alice):
                            unique = secrets.token_hex(6)
                            sock.sendto(
                                case.render(HOST, target.local_port, unique),
                                (HOST, target.local_port),
                            )
                            sent += 1
                    stop.wait(0.1)
            return sent

        heard_before = (call.rtp.packets_received, taken.rtp.packets_received)
        start = asyncio.get_running_loop().time()
        thrower = asyncio.create_task(asyncio.to_thread(throw_corpus), name="test-thrower")
        await asyncio.sleep(2.0)
        elapsed = asyncio.get_running_loop().time() - start
        stop.set()
        sent = await thrower
        rates = (
            (call.rtp.packets_received - heard_before[0]) / elapsed,
            (taken.rtp.packets_received - heard_before[1]) / elapsed,
        )
        assert sent > 1000
        assert all(rate >= 45 for rate in rates), rates  # 50 a second, less a late tick
        assert call.state.value == "answered" and not taken.ended.done()
        await call.hang_up()
        assert await asyncio.wait_for(taken.ended, 3) == "remote_hangup"
        assert failures.seen == []
    finally:
        receptionist.cancel()
