"""The five services as processes with instant speech engines, a fake Twilio, and virtual
phones calling through the gateway's Twilio Media Stream socket: what a carrier does.

Shared by the capacity sweep and its soak (``capacity.py``). The services are started
by the same launcher as ``switchboard run``; only the configuration differs:

* ``dialer.telephony: twilio`` against the fake Twilio of the tests (real ``twilio`` SDK);
* ``speech.stt: instant``, ``speech.tts: instant`` (the VAD stays webrtc: it is real and
  costs microseconds), so recognition and synthesis cost nothing and the orchestration is
  what is measured;
* ``brain.policy: form`` (deterministic, sub-millisecond; every answer is a durable claim
  write, as in a real call);
* no ``POST /call`` rate limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import tempfile
import time
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from twilio_phone import CYCLE_FRAMES, FRAME_SEC, PhoneRecord, TwilioPhone
from voice_measures import lateness_ms, send_lateness_ms, turn_latency_ms

from switchboard_cli.launcher import Cluster, ClusterPorts
from switchboard_testing.fake_twilio import FakeTwilio

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
BOT_NUMBER = "+14155550100"
FIELDS = 50  # text fields (the API allows 50): 150 s of turns, longer than any bench call
SAMPLER = Path(__file__).resolve().parent / "sampler"
# Every claim answer is accepted ("text") and the bot answers in two sentences ("Thank
# you, I've noted answer 3. Could you tell me the answer 4?"): 2 s of the instant voice.
REQUEST = {
    "bot_company": "Bench Co",
    "bot_name": "Joe",
    "agent_phone_number": "+14155550199",
    "task": "Collect the answers.",
    "lang": "en-US",
    "claim": [
        {"name": f"answer_{i}", "type": "text", "description": f"answer {i}"} for i in range(FIELDS)
    ],
}


@contextlib.contextmanager
def voice_cluster(profile_dir: Path | None = None) -> Iterator[tuple[Cluster, FakeTwilio]]:
    """The fake Twilio and the five services (fresh data directory), stopped on exit.

    ``profile_dir``: every service samples its own stacks into it (``sampler/``)."""
    token = secrets.token_hex(16)
    twilio = FakeTwilio(ACCOUNT_SID, token)
    twilio.start()
    try:
        with tempfile.TemporaryDirectory() as root:
            ports = ClusterPorts.free()
            env = {
                "SWITCHBOARD_CONFIG": str(Path(root) / "none.yaml"),
                "SWITCHBOARD__DIALER__TELEPHONY": "twilio",
                "SWITCHBOARD__DIALER__TWILIO__ACCOUNT_SID": ACCOUNT_SID,
                "SWITCHBOARD__DIALER__TWILIO__FROM_NUMBER": BOT_NUMBER,
                "SWITCHBOARD__DIALER__TWILIO__PUBLIC_URL": f"http://127.0.0.1:{ports.gateway}",
                "SWITCHBOARD__DIALER__TWILIO__API_BASE_URL": twilio.base_url,
                "TWILIO_AUTH_TOKEN": token,
                "SWITCHBOARD__SPEECH__STT": "instant",
                "SWITCHBOARD__SPEECH__TTS": "instant",
                "SWITCHBOARD__GATEWAY__RATE_LIMITS__CALLS_PER_KEY": "0",
                "SWITCHBOARD__GATEWAY__RATE_LIMITS__CALLS_PER_ADDRESS": "0",
            }
            if profile_dir is not None:
                env["SWITCHBOARD_BENCH_PROFILE_DIR"] = str(profile_dir)
                env["PYTHONPATH"] = f"{SAMPLER}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"
            cluster = Cluster(
                ports=ports,
                api_key=secrets.token_urlsafe(16),
                data_dir=Path(root) / "data",
                log_dir=Path(root) / "logs",
                env=env,
            )
            cluster.start()
            try:
                yield cluster, twilio
            finally:
                cluster.stop()
    finally:
        twilio.stop()


def service_pids(cluster: Cluster) -> dict[str, int]:
    return {name: proc.pid for name, proc in cluster.processes.items()}


@dataclass
class Tally:
    """Everything the phones measured inside one window, reduced as calls end."""

    start: float
    end: float
    lateness: array[float] = field(default_factory=lambda: array("d"))
    turns: array[float] = field(default_factory=lambda: array("d"))
    send_late: array[float] = field(default_factory=lambda: array("d"))
    reply_sec: array[float] = field(default_factory=lambda: array("d"))  # bot turns heard
    unanswered: int = 0
    clears: int = 0
    calls: int = 0
    failures: list[str] = field(default_factory=list)

    def add(self, record: PhoneRecord) -> None:
        self.calls += 1
        if record.failure is not None:
            self.failures.append(record.failure)
        self.lateness.extend(lateness_ms([record], self.start, self.end))
        latencies, unanswered = turn_latency_ms([record], self.start, self.end)
        self.turns.extend(latencies)
        self.unanswered += unanswered
        self.send_late.extend(send_lateness_ms([record], self.start, self.end))
        self.reply_sec.extend(
            len(turn) * FRAME_SEC
            for turn in record.turns
            if turn and self.start <= turn[0] < self.end
        )
        self.clears += sum(1 for t in record.clears if self.start <= t < self.end)


class Numbers:
    """Fresh callee numbers, so no call resumes an earlier one (callback window)."""

    def __init__(self) -> None:
        self._next = 2_000_000

    def __call__(self) -> str:
        self._next += 1
        return f"+1415{self._next:07d}"


async def phone_worker(
    index: int,
    count: int,
    twilio: FakeTwilio,
    api: httpx.AsyncClient,
    numbers: Numbers,
    stop: asyncio.Event,
    call_sec: float,
    tally: Tally,
    connected: asyncio.Event | None = None,
    once: bool = False,
) -> None:
    """One line of the load: calls of ``call_sec`` back to back until ``stop``; each
    call's record goes into ``tally`` when it ends. ``connected`` is set after the first
    call was answered (or failed). ``once``: one call only."""
    while not stop.is_set():
        phone = TwilioPhone(twilio, numbers(), index * CYCLE_FRAMES // count)
        try:
            await phone.place(api, REQUEST)
        except (httpx.HTTPError, OSError, TimeoutError) as exc:
            phone.record.failure = f"placing the call failed: {type(exc).__name__}: {exc}"
        if connected is not None:
            connected.set()
            connected = None
        if phone.record.failure is None:
            await phone.talk(time.monotonic() + call_sec, stop)
        tally.add(phone.record)
        if once:
            return
        if phone.record.failure is not None:
            with contextlib.suppress(TimeoutError):  # do not spin on a refusing cluster
                await asyncio.wait_for(stop.wait(), 1.0)


def api_client(cluster: Cluster) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=cluster.gateway_url,
        headers={"Authorization": f"Bearer {cluster.api_key}"},
        timeout=30,
        limits=httpx.Limits(max_connections=50),
    )
