"""Turn latency and barge-in at a carrier's phone, for Twilio and ACS: the five services
with ``dialer.telephony`` set to the carrier, its real SDK against the tests' fake
(``switchboard_testing.carrier_rigs``), the callee the fake's phone speaking Piper's voice.

Per call: the bot greets and asks when it happened; once the greeting's turn is over
at the phone (Twilio: its mark came back; ACS, which has no marks: 1.2 s of bot silence),
the callee answers. Then, while the bot recaps, the callee talks over it.

* turn latency: the callee's last voiced frame is sent on the media socket → the first
  voiced bot frame arrives on it (includes the 500 ms silence window, STT, the brain, TTS,
  the dialer's playout, the gateway's bridge both ways);
* barge-in: the callee's first voiced frame is sent → the carrier's stop arrives
  (Twilio ``clear``, ACS ``StopAudio``).

    .venv/bin/python bench/carriers/turn_latency.py --carrier acs [--calls 6]

Each turn is also broken down, from the dialer's log (its stamps are on the system's
monotonic clock, as the phone's): end of speech → its audio sent on to Listen (the
uplink, the VAD's tail) → ``speech_ended`` back at the dialer (the silence window and
Listen's lag), → the final transcript, → the brain's first sentence,
→ its first synthesized frame at the dialer, → that frame played, → the first bot frame
at the phone (the downlink), → the first voiced one (the voice's leading silence).

Prints a table and writes bench/results/{carrier}_latency.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/: results_io
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "testing"))  # the fakes

from results_io import machine, percentile, write_results

from switchboard_cli.launcher import Cluster, ClusterPorts
from switchboard_testing.carrier_rigs import CARRIERS, CarrierPhone, CarrierRig, carrier_rig
from switchboard_testing.voices import spoken_pcm

ANSWER = "It happened yesterday at nine in the morning."
BARGE = "Wait, I have a question about my policy."
LOUD = 500
REQUEST = {
    "bot_company": "Contoso Insurance",
    "bot_name": "Joe",
    "agent_phone_number": "+14155550199",
    "task": "Help the customer file a claim for the damage to their home.",
    "lang": "en-US",
    "claim": [{"name": "incident_datetime", "type": "datetime", "description": "when it happened"}],
}
TARGETS = {"turn": "p50 <= 800", "barge": "p50 <= 290"}
STOP_NAMES = {"twilio": "clear", "acs": "StopAudio"}
STAGES = (
    ("phone → Listen (uplink, VAD tail)", "spoken_end", "heard_at_dialer"),
    ("silence window + Listen's lag", "heard_at_dialer", "ended_at"),
    ("final transcript", "ended_at", "final_at"),
    ("brain first sentence", "final_at", "sentence_at"),
    ("first synthesized frame", "sentence_at", "audio_at"),
    ("playout start", "audio_at", "played_at"),
    ("downlink to the phone", "played_at", "heard_at"),
    ("leading silence", "heard_at", "replied"),
)


def frames_of(pcm: bytes, rate: int) -> np.ndarray:
    size = rate // 50
    samples = np.frombuffer(pcm[: len(pcm) - len(pcm) % (size * 2)], dtype="<i2")
    return samples.reshape(-1, size).astype(np.int32)


def voiced_frames(pcm: bytes, rate: int) -> list[int]:
    return [i for i, f in enumerate(frames_of(pcm, rate)) if int(np.abs(f).max()) > LOUD]


def loud(pcm: bytes) -> bool:
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.int32)
    return samples.size > 0 and int(np.abs(samples).max()) > LOUD


async def wait_for(what: str, check: object, within_sec: float) -> float:
    deadline = time.monotonic() + within_sec
    while time.monotonic() < deadline:
        if value := check():  # type: ignore[operator]
            return float(value)
        await asyncio.sleep(0.01)
    raise TimeoutError(f"{what} not within {within_sec:.0f} s")


async def one_call(
    cluster: Cluster, rig: CarrierRig, answer: bytes, barge: bytes
) -> tuple[float, float, dict[str, float]]:
    number = f"+1415555{secrets.randbelow(9000) + 1000}"
    headers = {"Authorization": f"Bearer {cluster.api_key}"}
    async with httpx.AsyncClient(base_url=cluster.gateway_url, headers=headers) as api:
        placed = await api.post("/call", json={**REQUEST, "phone_number": number})
        placed.raise_for_status()
    phone: CarrierPhone = await rig.pick_up(number, 60)
    rate = rig.sample_rate
    try:
        await wait_for("the greeting", lambda: phone.turn_done_after(0.0), 60)
        voiced = voiced_frames(answer, rate)
        trailing = (len(answer) // (rate // 25) - 1 - voiced[-1]) * 0.02
        await phone.say(answer)
        spoken_end = time.monotonic() - trailing

        def first_reply() -> float | None:
            return next((t for t, f in phone.bot_frames() if t > spoken_end and loud(f)), None)

        replied = await wait_for("the reply", first_reply, 30)
        heard = next(t for t, _ in phone.bot_frames() if t > spoken_end)
        stamps = {"spoken_end": spoken_end, "heard_at": heard, "replied": replied}
        # Half a second into the recap, the callee talks over it.
        await wait_for(
            "the recap",
            lambda: sum(1 for t, f in phone.bot_frames() if t > replied and loud(f)) > 25,
            30,
        )
        started = time.monotonic() + voiced_frames(barge, rate)[0] * 0.02
        speaking = asyncio.ensure_future(phone.say(barge))
        stopped = await wait_for("the stop", lambda: phone.bot_stopped_at(started), 10)
        await speaking
        return (replied - spoken_end) * 1000, (stopped - started) * 1000, stamps
    finally:
        await phone.hang_up()


async def measure(
    cluster: Cluster, rig: CarrierRig, calls: int
) -> tuple[list[float], list[float], list[dict[str, float]]]:
    speech = cluster.ports.grpc_address("speech")
    answer, barge = await spoken_pcm(speech, [ANSWER, BARGE], rig.sample_rate, "bench-callee")
    turns, barge_ins, stamps = [], [], []
    async with rig:
        for i in range(calls):
            turn, cut, stamped = await one_call(cluster, rig, answer, barge)
            turns.append(turn)
            barge_ins.append(cut)
            stamps.append(stamped)
            print(f"call {i + 1}: turn {turn:.0f} ms, barge-in {cut:.0f} ms", file=sys.stderr)  # noqa: T201
    return turns, barge_ins, stamps


def log_entries(path: Path, message: str) -> list[dict[str, Any]]:
    """The dialer's log lines with this message, as fields (JSON or text lines)."""
    entries = []
    for line in path.read_text(errors="replace").splitlines():
        if message not in line:
            continue
        if line.startswith("{"):
            entry = json.loads(line)
            if entry.get("message") == message:
                entries.append(entry)
        elif f": {message} " in line:
            entries.append(dict(re.findall(r"(\w+)=(\S+)", line)))
    return entries


def breakdown(log_path: Path, stamps: list[dict[str, float]]) -> dict[str, list[float]]:
    """Per stage (``STAGES``), its milliseconds in each measured turn the log explains."""
    answering = log_entries(log_path, "bot answering")
    sentences = {
        str(e["turn_id"]): float(e["at"]) for e in log_entries(log_path, "turn first sentence")
    }
    stages: dict[str, list[float]] = {name: [] for name, _, _ in STAGES}
    for stamped in stamps:
        entry = next(
            (
                e
                for e in answering
                if stamped["spoken_end"] < float(e["ended_at"]) < stamped["replied"]
            ),
            None,
        )
        if entry is None:
            continue
        turn = {
            **stamped,
            **{k: float(entry[k]) for k in ("ended_at", "final_at", "audio_at", "played_at")},
        }
        turn["sentence_at"] = sentences.get(str(entry["turn_id"]), turn["final_at"])
        # The caller's audio reaches Listen in real time: the end of speech (as the VAD
        # placed it) left the dialer this long before speech_ended came back.
        turn["heard_at_dialer"] = turn["ended_at"] - float(entry["ended_after_ms"]) / 1000
        for name, start, end in STAGES:
            stages[name].append((turn[end] - turn[start]) * 1000)
    return stages


def main(carrier: str, calls: int) -> None:
    rig = carrier_rig(carrier)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as root:
        ports = ClusterPorts.free()
        cluster = Cluster(
            ports=ports,
            api_key=secrets.token_urlsafe(16),
            data_dir=Path(root) / "data",
            log_dir=Path(root) / "logs",
            env={
                "SWITCHBOARD_CONFIG": str(Path(root) / "none.yaml"),
                **rig.service_env(f"http://127.0.0.1:{ports.gateway}"),
            },
        )
        cluster.start()
        try:
            turns, barge_ins, stamps = asyncio.run(measure(cluster, rig, calls))
        finally:
            cluster.stop()
        stages = breakdown(Path(root) / "logs" / "dialer.log", stamps)
    load_after = os.getloadavg()
    stop = STOP_NAMES[carrier]
    rows = [
        (f"turn latency (end of speech → first bot audio), {carrier} phone", turns, "turn"),
        (f"barge-in (caller speaks → {stop} arrives), {carrier} phone", barge_ins, "barge"),
    ]
    lines = [f"{'measure':<62} {'n':>3} {'p50 ms':>7} {'p95 ms':>7} {'target':>11}"]
    for name, values, target in rows:
        p50, p95 = percentile(values, 50), percentile(values, 95)
        lines.append(f"{name:<62} {len(values):>3} {p50:>7.0f} {p95:>7.0f} {TARGETS[target]:>11}")
    for name, values in stages.items():
        if values:
            p50, p95 = percentile(values, 50), percentile(values, 95)
            lines.append(f"{'  ' + name:<62} {len(values):>3} {p50:>7.0f} {p95:>7.0f}")
    lines.append(f"load average {load_before[0]:.1f} → {load_after[0]:.1f}")
    print("\n".join(lines))  # noqa: T201 - a benchmark prints its table
    write_results(
        f"{carrier}_latency",
        {
            "machine": machine(),
            "carrier": carrier,
            "load_average": [load_before[0], load_after[0]],
            "turn_latency_ms": turns,
            "barge_in_ms": barge_ins,
            "turn_stages_ms": stages,
        },
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--carrier", choices=CARRIERS, default="twilio")
    parser.add_argument("--calls", type=int, default=6)
    args = parser.parse_args()
    main(args.carrier, args.calls)
