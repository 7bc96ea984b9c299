"""CPU cost per 20 ms frame of the gateway's ACS media bridge, in process (no sockets).

Uplink: an ACS ``AudioData`` JSON text → parsed, base64-decoded, cut into a 640-byte
PCM16 frame → the ``PhoneUplink`` protobuf bytes for ``Dialer.Phone``. Downlink: the
``PhoneDownlink`` bytes of a bot frame → parsed → ACS ``AudioData`` JSON text. This is
the work the gateway adds per frame by terminating the carrier's socket itself (the
gRPC hop to the dialer and the WebSocket I/O are not included).

    .venv/bin/python bench/carriers/acs_frame_cost.py [--frames 20000]

Prints a table and writes bench/results/acs_frame_cost.json.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "bench") not in sys.path:
    sys.path.insert(0, str(ROOT / "bench"))

from results_io import machine, percentile, write_results  # noqa: E402

from switchboard.media import AudioFrame  # noqa: E402
from switchboard.phone_wire import downlink_from_pb, downlink_to_pb, uplink_to_pb  # noqa: E402
from switchboard.v1 import dialer_pb2  # noqa: E402
from switchboard_gateway.acs_media import audio_message  # noqa: E402

FRAME_BYTES = 640
FRAMES_PER_SEC = 50


def uplink_once(text: str) -> bytes:
    message = json.loads(text)
    pcm = base64.b64decode(message["audioData"]["data"], validate=True)
    frame = AudioFrame(pcm[:FRAME_BYTES], 1, 20, 16000)
    return uplink_to_pb(frame).SerializeToString()


def downlink_once(wire: bytes) -> str:
    msg = dialer_pb2.PhoneDownlink()
    msg.ParseFromString(wire)
    event = downlink_from_pb(msg)
    assert isinstance(event, AudioFrame)
    return audio_message(event.pcm)


def timed(work: object, arg: object, frames: int) -> list[float]:
    samples = []
    for _ in range(frames):
        start = time.perf_counter_ns()
        work(arg)  # type: ignore[operator]
        samples.append((time.perf_counter_ns() - start) / 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=20000)
    args = parser.parse_args()
    pcm = os.urandom(FRAME_BYTES)
    up_text = json.dumps(
        {
            "kind": "AudioData",
            "audioData": {
                "timestamp": "2026-12-01T00:00:00Z",
                "participantRawID": "4:+14155550123",
                "data": base64.b64encode(pcm).decode(),
                "silent": False,
            },
        }
    )
    down_wire = downlink_to_pb(AudioFrame(pcm, 1, 20, 16000)).SerializeToString()
    timed(uplink_once, up_text, 1000)  # warm up
    timed(downlink_once, down_wire, 1000)
    rows = {}
    for name, work, arg in (
        ("uplink", uplink_once, up_text),
        ("downlink", downlink_once, down_wire),
    ):
        samples = timed(work, arg, args.frames)
        rows[name] = {
            "p50_us": percentile(samples, 50),
            "p95_us": percentile(samples, 95),
            "mean_us": sum(samples) / len(samples),
        }
    per_call_us = (rows["uplink"]["mean_us"] + rows["downlink"]["mean_us"]) * FRAMES_PER_SEC
    # One core's second is 1e6 µs: the calls one gateway core could bridge on this work alone.
    calls_per_core = 1e6 / per_call_us
    lines = [f"{'direction':<10} {'p50 µs':>8} {'p95 µs':>8} {'mean µs':>8}"]
    lines += [
        f"{name:<10} {row['p50_us']:>8.1f} {row['p95_us']:>8.1f} {row['mean_us']:>8.1f}"
        for name, row in rows.items()
    ]
    lines.append(f"per call (50 frames/s each way): {per_call_us / 1000:.2f} ms of CPU a second")
    lines.append(f"calls per gateway core on this work alone: {calls_per_core:.0f}")
    sys.stdout.write("\n".join(lines) + "\n")
    path = write_results(
        "acs_frame_cost",
        {
            "machine": machine(),
            "frames": args.frames,
            "rows": rows,
            "cpu_ms_per_call_second": per_call_us / 1000,
            "calls_per_core": calls_per_core,
        },
    )
    sys.stdout.write(f"json {path}\n")


if __name__ == "__main__":
    main()
