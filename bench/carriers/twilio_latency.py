"""Turn latency and barge-in at a Twilio phone: the five services, the real ``twilio`` SDK
against the fake Twilio of the tests, the callee a Media Stream speaking Piper's voice.

Per call: the bot greets and asks when it happened; once Twilio's mark says the greeting
was played, the callee answers. Then, while the bot recaps, the callee talks over it.

* turn latency: the callee's last voiced frame is sent on the Media Stream → the first
  voiced bot frame arrives on it (includes the 500 ms silence window, STT, the brain, TTS,
  the dialer's playout, the gateway's bridge both ways);
* barge-in: the callee's first voiced frame is sent → Twilio's ``clear`` arrives.

    .venv/bin/python bench/carriers/twilio_latency.py [--calls 6]

Prints a table and writes bench/results/twilio_latency.json.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/: results_io
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "testing"))  # the fake Twilio

from results_io import machine, percentile, write_results

from switchboard_cli.launcher import Cluster, ClusterPorts
from switchboard_testing.fake_twilio import FRAME_PCM, FakeTwilio, MediaStreamPhone, piper_voice

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
BOT_NUMBER = "+14155550100"
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


def voiced_frames(pcm: bytes) -> list[int]:
    frames = np.frombuffer(pcm[: len(pcm) - len(pcm) % FRAME_PCM], dtype="<i2").reshape(-1, 160)
    return [i for i, f in enumerate(frames) if int(np.abs(f.astype(np.int32)).max()) > LOUD]


def loud(pcm: bytes) -> bool:
    return int(np.abs(np.frombuffer(pcm, dtype="<i2").astype(np.int32)).max()) > LOUD


async def one_call(
    cluster: Cluster, twilio: FakeTwilio, answer: bytes, barge: bytes
) -> tuple[float, float]:
    number = f"+1415555{secrets.randbelow(9000) + 1000}"
    headers = {"Authorization": f"Bearer {cluster.api_key}"}
    async with httpx.AsyncClient(base_url=cluster.gateway_url, headers=headers) as api:
        placed = await api.post("/call", json={**REQUEST, "phone_number": number})
        placed.raise_for_status()
    fake = await asyncio.to_thread(twilio.wait_call, number)
    await asyncio.to_thread(twilio.status, fake, "in-progress")
    phone = MediaStreamPhone(twilio, fake.sid, fake.params["Twiml"])
    await phone.connect()
    try:
        await phone.wait_for("the greeting", phone.heard.turns_played, 60)
        voiced = voiced_frames(answer)
        trailing = (len(answer) // FRAME_PCM - 1 - voiced[-1]) * 0.02
        await phone.say(answer)
        spoken_end = time.monotonic() - trailing

        def first_reply() -> float | None:
            return next((t for t, f in phone.heard.media if t > spoken_end and loud(f)), None)

        replied = await phone.wait_for("the reply", first_reply, 30)
        # Half a second into the recap, the callee talks over it.
        await phone.wait_for(
            "the recap",
            lambda: sum(1 for t, f in phone.heard.media if t > replied and loud(f)) > 25,
            30,
        )
        leading = voiced_frames(barge)[0] * 0.02
        started = time.monotonic() + leading
        speaking = asyncio.ensure_future(phone.say(barge))
        cleared = await phone.wait_for(
            "the clear", lambda: next((t for t in phone.heard.clears if t > started), None), 10
        )
        await speaking
        return (replied - spoken_end) * 1000, (cleared - started) * 1000
    finally:
        await phone.hang_up()


async def measure(
    cluster: Cluster, twilio: FakeTwilio, calls: int
) -> tuple[list[float], list[float]]:
    speech = cluster.ports.grpc_address("speech")
    answer, barge = await piper_voice(speech, ANSWER), await piper_voice(speech, BARGE)
    turns, barge_ins = [], []
    for i in range(calls):
        turn, cut = await one_call(cluster, twilio, answer, barge)
        turns.append(turn)
        barge_ins.append(cut)
        print(f"call {i + 1}: turn {turn:.0f} ms, barge-in {cut:.0f} ms", file=sys.stderr)  # noqa: T201
    return turns, barge_ins


def main(calls: int) -> None:
    token = secrets.token_hex(16)
    twilio = FakeTwilio(ACCOUNT_SID, token)
    twilio.start()
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
                "SWITCHBOARD__DIALER__TELEPHONY": "twilio",
                "SWITCHBOARD__DIALER__TWILIO__ACCOUNT_SID": ACCOUNT_SID,
                "SWITCHBOARD__DIALER__TWILIO__FROM_NUMBER": BOT_NUMBER,
                "SWITCHBOARD__DIALER__TWILIO__PUBLIC_URL": f"http://127.0.0.1:{ports.gateway}",
                "SWITCHBOARD__DIALER__TWILIO__API_BASE_URL": twilio.base_url,
                "TWILIO_AUTH_TOKEN": token,
            },
        )
        cluster.start()
        try:
            turns, barge_ins = asyncio.run(measure(cluster, twilio, calls))
        finally:
            cluster.stop()
            twilio.stop()
    load_after = os.getloadavg()
    rows = [
        ("turn latency (end of speech → first bot audio), Twilio phone", turns, "p50 <= 800"),
        ("barge-in (caller speaks → clear arrives), Twilio phone", barge_ins, "p50 <= 290"),
    ]
    lines = [f"{'measure':<62} {'n':>3} {'p50 ms':>7} {'p95 ms':>7} {'target':>11}"]
    for name, values, target in rows:
        p50, p95 = percentile(values, 50), percentile(values, 95)
        lines.append(f"{name:<62} {len(values):>3} {p50:>7.0f} {p95:>7.0f} {target:>11}")
    lines.append(f"load average {load_before[0]:.1f} → {load_after[0]:.1f}")
    print("\n".join(lines))  # noqa: T201 - a benchmark prints its table
    write_results(
        "twilio_latency",
        {
            "machine": machine(),
            "load_average": [load_before[0], load_after[0]],
            "turn_latency_ms": turns,
            "barge_in_ms": barge_ins,
        },
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=6)
    main(parser.parse_args().calls)
