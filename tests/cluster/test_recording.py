"""A recorded voice call through the five real services: Piper speaks, Whisper listens.

The simulated callee talks in real time and keeps its own two-channel record of the
call (what it sent and what it heard, tick by tick): the dialer's recording must have
the same two voices, the callee on the left and the bot on the right, with the pauses
between them where the callee heard them.
"""

from __future__ import annotations

import asyncio
import io
import math
import secrets
import struct
import time
import wave
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from switchboard_cli.launcher import Cluster, ClusterPorts
from switchboard_cli.scenario import Scenario
from switchboard_cli.scenario_voice import VoiceCallee
from tests.cluster.harness import FIXED_NOW, unique_number

RATE = 8000
SAMPLES = RATE // 50
VOICED_RMS = 300


@pytest.fixture(scope="module")
def recording_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    root = tmp_path_factory.mktemp("recording-cluster")
    cluster = Cluster(
        ports=ClusterPorts.free(),
        api_key=secrets.token_urlsafe(16),
        data_dir=root / "data",
        log_dir=root / "logs",
        env={
            "SWITCHBOARD_CONFIG": str(root / "switchboard.yaml"),
            "SWITCHBOARD__BRAIN__FIXED_NOW": FIXED_NOW,
            "SWITCHBOARD__LOGGING__LEVEL": "DEBUG",
            "SWITCHBOARD__FEATURES__RECORDING_ENABLED": "true",
        },
    )
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


def ticks_voiced(pcm: bytes) -> list[bool]:
    samples = struct.unpack(f"<{len(pcm) // 2}h", pcm)
    return [
        math.sqrt(sum(s * s for s in samples[i : i + SAMPLES]) / SAMPLES) > VOICED_RMS
        for i in range(0, len(samples) - SAMPLES + 1, SAMPLES)
    ]


def best_lag(reference: list[bool], recorded: list[bool], max_lag: int = 100) -> tuple[int, float]:
    """The shift of ``recorded`` against ``reference`` where their voiced ticks agree
    most, and how well (the share of the reference's voiced ticks matched)."""
    voiced = sum(reference) or 1
    best = (0, 0.0)
    for lag in range(-max_lag, max_lag + 1):
        hits = sum(
            1
            for i, v in enumerate(reference)
            if v and 0 <= i + lag < len(recorded) and recorded[i + lag]
        )
        if hits / voiced > best[1]:
            best = (lag, hits / voiced)
    return best


def runs(voiced: list[bool], min_silence: int = 1) -> list[tuple[int, int]]:
    """[start, end) of each voiced stretch, stretches closer than ``min_silence`` merged."""
    found: list[tuple[int, int]] = []
    for i, v in enumerate(voiced):
        if not v:
            continue
        if found and i - found[-1][1] < min_silence:
            found[-1] = (found[-1][0], i + 1)
        else:
            found.append((i, i + 1))
    return found


def nearest(candidates: list[int], target: int) -> int:
    return min(candidates, key=lambda c: abs(c - target))


def fetch_recording(client: httpx.Client, call_id: str) -> bytes:
    for _ in range(100):  # stored just after the call ended
        reply = client.get(f"/call/{call_id}/recording")
        if reply.status_code == 200:
            assert reply.headers["content-type"] == "audio/wav"
            assert reply.headers["cache-control"] == "no-store"
            return reply.content
        assert reply.status_code == 404
        time.sleep(0.1)
    raise AssertionError("no recording")


def test_a_recorded_call_has_the_callee_left_and_the_bot_right_on_the_same_ticks(
    recording_cluster: Cluster, tmp_path: Path
) -> None:
    scenario = Scenario.model_validate(
        {
            "phone_number": unique_number(),
            "request": {
                "claim": [
                    {"name": "incident_description", "type": "text", "description": "what happened"}
                ]
            },
            "customer": [
                "A pipe burst under the sink and flooded the kitchen floor.",
                "No, that's all, thank you. Goodbye!",
            ],
        }
    )
    callee = VoiceCallee(
        scenario,
        recording_cluster.gateway_url,
        recording_cluster.api_key,
        recording_cluster.ports.grpc_address("dialer"),
        recording_cluster.ports.grpc_address("speech"),
        sample_rate=RATE,
        speed=1.0,  # real time: the callee's ticks are the reference clock
        transcribe_bot=False,
        record=True,
    )
    result = asyncio.run(callee.run(limit_sec=120))
    call_id = result.call["call_id"]
    assert callee.recording

    url = recording_cluster.gateway_url
    with httpx.Client(base_url=url, timeout=10) as anonymous:
        assert anonymous.get(f"/call/{call_id}/recording").status_code == 401
    headers = {"Authorization": f"Bearer {recording_cluster.api_key}"}
    with httpx.Client(base_url=url, headers=headers, timeout=10) as api:
        data = fetch_recording(api, call_id)
        page = api.get(f"/report/{call_id}").text
    assert f'src="/call/{call_id}/recording?attempt=1"' in page

    with wave.open(io.BytesIO(data)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (2, 2, RATE)
        frames = wav.readframes(wav.getnframes())
    left = b"".join(frames[i : i + 2] for i in range(0, len(frames), 4))
    right = b"".join(frames[i + 2 : i + 4] for i in range(0, len(frames), 4))
    left_voiced, right_voiced = ticks_voiced(left), ticks_voiced(right)
    assert sum(left_voiced) > 50 and sum(right_voiced) > 50  # both sides spoke, seconds each

    # The callee's own record: what it sent (left) and what its speaker played (right).
    sent = ticks_voiced(b"".join(s for s, _ in callee.recording))
    heard = ticks_voiced(b"".join(p for _, p in callee.recording))
    # The callee's ticks are not real time (a callee that fell 200 ms behind skips ahead),
    # so its record matches the recording in stretches: most voiced ticks line up.
    assert best_lag(sent, left_voiced)[1] > 0.7
    assert best_lag(heard, right_voiced)[1] > 0.7
    # Locally the timing holds: from the bot's last word to the callee's next line, the
    # recording leaves the pause the callee left (within 200 ms), line by line.
    lines = [start for start, _end in runs(sent, min_silence=25)]
    assert len(lines) == 2
    for line in lines:
        bot_end = max(end for _s, end in runs(heard) if end <= line)
        recorded_line = nearest([s for s, _e in runs(left_voiced, min_silence=25)], line)
        recorded_bot_end = max(e for _s, e in runs(right_voiced) if e <= recorded_line)
        pause, recorded_pause = line - bot_end, recorded_line - recorded_bot_end
        assert abs(pause - recorded_pause) <= 10, (line, pause, recorded_pause)
    # Voices do not leak into the wrong channel: the bot's greeting is not on the left.
    greeting = [i for i, v in enumerate(right_voiced[:150]) if v]
    assert sum(left_voiced[i] for i in greeting) < 0.1 * len(greeting)
