"""Voice-mode latency at the phone, real time, through the five services (8 kHz).

One simulated voice call with many text fields: the callee answers every
question; every other answer is said over the bot instead (barge-in).

* turn latency: the callee's last voiced frame leaves the phone → the first bot
  frame of the answer reaches it (includes the 500 ms silence window);
* barge-in: the callee's first voiced frame leaves the phone → the dialer's
  clear_audio (the bot stops) reaches it.

    .venv/bin/python bench/voice/latency.py [--fields 16]

Prints a table and writes bench/results/voice_latency.json.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import percentile, table, write_results

from switchboard.config import Features
from switchboard_cli.launcher import Cluster, ClusterPorts
from switchboard_cli.scenario import Scenario
from switchboard_cli.scenario_voice import VoiceCallee

ANSWERS = [
    "The roof was leaking after the storm.",
    "My neighbour's tree fell on the fence.",
    "The basement flooded during the night.",
    "A window broke when the wind picked up.",
    "Water came through the kitchen ceiling.",
    "The garage door was damaged by hail.",
    "Smoke from the oven stained the walls.",
    "The heater stopped working in January.",
]


def scenario(fields: int) -> Scenario:
    customer: list[dict[str, object]] = []
    for i in range(fields):
        line: dict[str, object] = {"say": ANSWERS[i % len(ANSWERS)]}
        if i % 2 == 1:
            line["interrupt_after_ms"] = 1200
        customer.append(line)
    customer.append({"say": "No, that's all, thank you. Goodbye!"})
    return Scenario.model_validate(
        {
            "phone_number": f"+1415555{secrets.randbelow(9000) + 1000}",
            "request": {
                "claim": [
                    {"name": f"detail_{i}", "type": "text", "description": f"detail number {i}"}
                    for i in range(fields)
                ]
            },
            "customer": customer,
        }
    )


def main(fields: int) -> None:
    with tempfile.TemporaryDirectory() as root:
        cluster = Cluster(
            ports=ClusterPorts.free(),
            api_key=secrets.token_urlsafe(16),
            data_dir=Path(root) / "data",
            log_dir=Path(root) / "logs",
            env={"SWITCHBOARD_CONFIG": str(Path(root) / "none.yaml")},
        )
        cluster.start()
        try:
            callee = VoiceCallee(
                scenario(fields),
                cluster.gateway_url,
                cluster.api_key,
                cluster.ports.grpc_address("dialer"),
                cluster.ports.grpc_address("speech"),
                sample_rate=8000,
                speed=1.0,
                transcribe_bot=False,
            )
            asyncio.run(callee.run(limit_sec=60 + 15 * fields))
        finally:
            cluster.stop()
    t = callee.timeline
    turns = [1000 * (b - a) for a, b in zip(t.speech_end, t.bot_audio, strict=False) if b > a]
    barge = [1000 * (b - a) for a, b in zip(t.barge_in, t.bot_stopped, strict=False) if b > a]
    flags = Features()
    rows = [
        [
            "turn latency (end of speech → first bot audio)",
            len(turns),
            percentile(turns, 50),
            percentile(turns, 95),
            "p50 <= 800",
        ],
        [
            "barge-in (speech onset → bot stops)",
            len(barge),
            percentile(barge, 50),
            percentile(barge, 95),
            f"p50 <= {flags.vad_cutoff_timeout_ms + 40}",
        ],
    ]
    print(  # noqa: T201
        table(
            ["measure", "n", "p50 ms", "p95 ms", "target"],
            [[r[0], r[1], f"{r[2]:.0f}", f"{r[3]:.0f}", r[4]] for r in rows],
        )
    )
    path = write_results(
        "voice_latency",
        {
            "sample_rate": 8000,
            "vad_silence_timeout_ms": flags.vad_silence_timeout_ms,
            "vad_cutoff_timeout_ms": flags.vad_cutoff_timeout_ms,
            "turn_ms": turns,
            "barge_in_ms": barge,
        },
    )
    print(f"wrote {path}")  # noqa: T201


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fields", type=int, default=16)
    main(parser.parse_args().fields)
