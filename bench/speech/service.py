"""Runs the speech service as its own process for a benchmark, and streams clips to it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import grpc
from common import REPO
from grpc_health.v1 import health_pb2, health_pb2_grpc

from switchboard.v1 import common_pb2, speech_pb2, speech_pb2_grpc
from switchboard_speech.audio import FRAME_MS, split_frames
from switchboard_testing.ports import free_tcp_port

SILENCE_MS = 500  # the default vad_silence_timeout_ms


@asynccontextmanager
async def speech_service() -> AsyncIterator[Any]:
    """A ``python -m switchboard_speech`` process; yields a stub once it is SERVING."""
    port = free_tcp_port()
    env = {
        **os.environ,
        "SWITCHBOARD_LISTEN_ADDRESS": f"127.0.0.1:{port}",
        "SWITCHBOARD__LOGGING__LEVEL": "WARNING",
    }
    # Started once per benchmark, before any timing: blocking here is harmless.
    proc = subprocess.Popen(  # noqa: ASYNC220
        [sys.executable, "-m", "switchboard_speech"], env=env, cwd=REPO
    )
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    try:
        health = health_pb2_grpc.HealthStub(channel)
        deadline = time.monotonic() + 120
        while True:
            try:
                reply = await health.Check(health_pb2.HealthCheckRequest(), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    break
            except grpc.aio.AioRpcError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("the speech service did not start")
            await asyncio.sleep(0.3)
        yield speech_pb2_grpc.SpeechStub(channel)
    finally:
        await channel.close()
        proc.terminate()
        proc.wait(timeout=15)


@dataclass
class Final:
    text: str
    window_latency_ms: float  # window-closing frame sent → final transcript received
    after_ended_ms: float  # speech_ended received → final transcript received


@dataclass
class ListenRun:
    finals: list[Final] = field(default_factory=list)
    late_writes: int = 0  # frames written more than 40 ms behind their real-time slot


async def stream_clips(
    stub: Any, clips: list[bytes], rate: int, call_id: str, paced_tail_ms: int | None
) -> ListenRun:
    """Streams clips back to back on one Listen stream.

    ``paced_tail_ms=None`` paces every frame in real time; otherwise each clip's
    frames go at wire speed except its last ``paced_tail_ms``, which are paced (so the
    silence window runs in real time while the benchmark stays short).
    """
    run = ListenRun()
    call = stub.Listen()
    await call.write(
        speech_pb2.ListenRequest(
            config=speech_pb2.ListenConfig(call_id=call_id, sample_rate=rate, lang="en-US")
        )
    )
    sent_at: dict[int, float] = {}  # media time at the end of a frame (ms) → when sent
    pending_ended: list[tuple[int, float]] = []

    async def read() -> None:
        while (response := await call.read()) is not grpc.aio.EOF:
            now = time.perf_counter()
            kind = response.WhichOneof("event")
            if kind == "speech_ended":
                pending_ended.append((response.speech_ended.offset_ms, now))
            elif kind == "transcript" and response.transcript.is_final and pending_ended:
                end_ms, ended_at = pending_ended.pop(0)
                close = sent_at.get(end_ms + SILENCE_MS, ended_at)
                run.finals.append(
                    Final(response.transcript.text, 1000 * (now - close), 1000 * (now - ended_at))
                )

    reader = asyncio.create_task(read(), name=f"bench-read-{call_id}")
    media_ms = 0
    clock = time.perf_counter()
    for pcm in clips:
        frames = split_frames(pcm, rate)
        paced_from = 0 if paced_tail_ms is None else len(frames) - paced_tail_ms // FRAME_MS
        for i, frame in enumerate(frames):
            if i >= paced_from:
                clock += FRAME_MS / 1000
                delay = clock - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                elif delay < -0.04:
                    run.late_writes += 1
            else:
                clock = time.perf_counter()
            media_ms += FRAME_MS
            await call.write(
                speech_pb2.ListenRequest(
                    audio=common_pb2.AudioFrame(
                        call_id=call_id,
                        seq=media_ms // FRAME_MS,
                        timestamp_ms=media_ms - FRAME_MS,
                        sample_rate=rate,
                        pcm=frame,
                    )
                )
            )
            sent_at[media_ms] = time.perf_counter()
    await call.done_writing()
    await reader
    return run
