"""A real SIP call: ``POST /call`` → the dialer's SIP stack → baresip on loopback, and back.

baresip auto-answers and plays a wav as its microphone: silence long enough for the
bot's greeting and first question, then the callee's answer (synthesised by Piper
through the Speech service's ``Speak``), then silence. It dumps what it heard
(``sndfile``), which is transcribed afterwards with the same faster-whisper weights
the Speech service uses, to prove the bot's audio crossed the SIP/RTP path.

Numbers: the callee's user part is the E.164 number itself, so the trunk request
URI (``sip:+1415…@127.0.0.1:PORT``) is what baresip's account answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import shutil
import socket
import subprocess
import time
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from switchboard_cli.launcher import Cluster, ClusterPorts
from switchboard_testing.ports import free_rtp_range, free_tcp_port, free_udp_port
from switchboard_testing.voices import spoken_pcm
from tests.cluster.harness import FIXED_NOW, unique_number

HOST = "127.0.0.1"
RATE = 8000
# The bot's greeting plus its question take 7.4 s of audio (measured in baresip's dump,
# Piper's joe voice) and start 0.3 s after the answer (synthesised while ringing).
# The callee answers after this much silence, so it never talks over the bot even
# when a loaded machine delays the greeting by a few seconds.
ANSWER_AFTER_SEC = 11.0
ANSWER = "It happened yesterday at nine in the morning."
TRAILING_SILENCE_SEC = 40.0
# FIXED_NOW is Tuesday 2026-11-24 in California: yesterday at 9 am, Pacific time.
EXPECTED_DATETIME = "2026-11-23T09:00:00-08:00"
CALL_LIMIT_SEC = 45.0
RECAP_PLAY_SEC = 6.0
REQUEST: dict[str, Any] = {
    "bot_company": "Contoso Insurance",
    "bot_name": "Joe",
    "agent_phone_number": "+14155550199",
    "task": "Help the customer file a claim for the damage to their home.",
    "lang": "en-US",
    "claim": [{"name": "incident_datetime", "type": "datetime", "description": "when it happened"}],
}


@dataclass
class BaresipPhone:
    """baresip 1.x as the callee: auto-answer, a wav as microphone, dumps of what it hears."""

    workdir: Path
    user: str
    port: int
    ctrl_port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.workdir / "baresip.log"

    @property
    def rec_dir(self) -> Path:
        return self.workdir / "rec"

    def start(self, microphone: Path) -> None:
        binary = shutil.which("baresip")
        if binary is None:
            pytest.skip("baresip is not installed (see services/dialer/tests/sip/APT_PACKAGES)")
        self.rec_dir.mkdir(parents=True, exist_ok=True)
        low, high = free_rtp_range(20)
        config = [
            f"sip_listen {HOST}:{self.port}",
            "sip_transports udp",
            f"net_interface {HOST}",  # "lo" fails: baresip wants an address
            "audio_player aubridge,nil",  # a null sink; sndfile records what is heard
            f"audio_source aufile,{microphone}",
            "audio_alert aubridge,nil",
            f"audio_srate {RATE}",
            "audio_channels 1",
            f"rtp_ports {low}-{high}",
            "module_path /usr/lib/baresip/modules",
            "module g711.so",
            "module aufile.so",
            "module aubridge.so",
            "module sndfile.so",
            "module_app account.so",
            "module_app menu.so",
            "module_app ctrl_tcp.so",
            f"ctrl_tcp_listen {HOST}:{self.ctrl_port}",
            f"snd_path {self.rec_dir}",
            "",
        ]
        (self.workdir / "config").write_text("\n".join(config))
        account = f"<sip:{self.user}@{HOST}:{self.port}>;regint=0"
        (self.workdir / "accounts").write_text(
            f"{account};answermode=auto;audio_codecs=PCMU,PCMA\n"
        )
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [binary, "-f", str(self.workdir)],
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection((HOST, self.ctrl_port), 0.2),
            ):
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"baresip did not start; see {self.log_path}")

    def command(self, command: str, params: str = "") -> str:
        """One ctrl_tcp command (a netstring of JSON); the raw reply."""
        body = json.dumps({"command": command, "params": params, "token": "t"}).encode()
        with socket.create_connection((HOST, self.ctrl_port), 2) as sock:
            sock.sendall(f"{len(body)}:".encode() + body + b",")
            with contextlib.suppress(TimeoutError):
                return sock.recv(65536).decode(errors="replace")
        return ""

    def heard(self, within_sec: float = 10.0) -> Path:
        """The wav baresip decoded from the bot (complete once the call ended)."""
        deadline = time.monotonic() + within_sec
        while time.monotonic() < deadline:
            dumps = [p for p in self.rec_dir.glob("*dec.wav") if p.stat().st_size > 44]
            if dumps:
                time.sleep(0.3)  # let baresip finish the header
                return dumps[0]
            time.sleep(0.1)
        raise AssertionError(f"baresip dumped no audio in {self.rec_dir}; see {self.log_path}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(3)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@dataclass
class SipRig:
    cluster: Cluster
    phone: BaresipPhone

    def logs(self) -> str:
        log_dir = self.cluster.log_dir
        return f"service logs in {log_dir}; baresip log {self.phone.log_path}"


@pytest.fixture(scope="session")
def sip_rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SipRig]:
    """The five services with ``dialer.telephony: sip``, their trunk pointing at baresip.

    baresip itself starts in the test, once its microphone wav is synthesised.
    """
    if shutil.which("baresip") is None:
        pytest.skip("baresip is not installed (see services/dialer/tests/sip/APT_PACKAGES)")
    root = tmp_path_factory.mktemp("sip-cluster")
    phone = BaresipPhone(root / "baresip", unique_number(), free_udp_port(), free_tcp_port())
    phone.workdir.mkdir()
    rtp_low, rtp_high = free_rtp_range(20)
    cluster = Cluster(
        ports=ClusterPorts.free(),
        api_key=secrets.token_urlsafe(16),
        data_dir=root / "data",
        log_dir=root / "logs",
        env={
            "SWITCHBOARD_CONFIG": str(root / "switchboard.yaml"),  # no file: pure defaults
            "SWITCHBOARD__BRAIN__FIXED_NOW": FIXED_NOW,
            "SWITCHBOARD__LOGGING__LEVEL": "DEBUG",
            "SWITCHBOARD__DIALER__TELEPHONY": "sip",
            "SWITCHBOARD__DIALER__RING_TIMEOUT_SEC": "10",
            "SWITCHBOARD__DIALER__SIP__HOST": HOST,
            "SWITCHBOARD__DIALER__SIP__PORT": str(phone.port),
            "SWITCHBOARD__DIALER__SIP__BIND_HOST": HOST,
            "SWITCHBOARD__DIALER__SIP__BIND_PORT": str(free_udp_port()),
            "SWITCHBOARD__DIALER__SIP__RTP_PORT_MIN": str(rtp_low),
            "SWITCHBOARD__DIALER__SIP__RTP_PORT_MAX": str(rtp_high),
            "SWITCHBOARD__DIALER__SIP__CALLER_ID": "+14155550100",
        },
    )
    cluster.start()
    try:
        yield SipRig(cluster, phone)
    finally:
        phone.stop()
        cluster.stop()


async def _synthesise(speech_address: str, text: str) -> bytes:
    """``text`` as 8 kHz PCM16, spoken by the Speech service (Piper)."""
    async with asyncio.timeout(30):
        [pcm] = await spoken_pcm(speech_address, [text], RATE, call_id="sip-test-callee")
    return pcm


def _write_microphone(path: Path, speech: bytes) -> Path:
    silence = b"\x00\x00"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(silence * int(RATE * ANSWER_AFTER_SEC))
        out.writeframes(speech)
        out.writeframes(silence * int(RATE * TRAILING_SILENCE_SEC))
    return path


def _transcribe(path: Path) -> str:
    """What Whisper hears in ``path``: the Speech service's own tiny.en weights, locally."""
    from faster_whisper import WhisperModel  # type: ignore[import-untyped]

    from switchboard_speech.stt.whisper import model_dir

    model = WhisperModel(str(model_dir()), device="cpu", compute_type="int8", cpu_threads=2)
    segments, _ = model.transcribe(str(path), language="en", beam_size=1, vad_filter=False)
    return " ".join(segment.text.strip() for segment in segments)


def _wait_for(what: str, check: Any, within_sec: float, rig: SipRig) -> Any:
    deadline = time.monotonic() + within_sec
    while time.monotonic() < deadline:
        if (value := check()) is not None:
            return value
        time.sleep(0.25)
    raise AssertionError(f"{what} not within {within_sec:.0f} s; {rig.logs()}")


def test_a_rest_call_rings_baresip_over_sip_and_fills_the_claim_from_its_voice(
    sip_rig: SipRig,
) -> None:
    cluster, phone = sip_rig.cluster, sip_rig.phone
    answer = asyncio.run(_synthesise(cluster.ports.grpc_address("speech"), ANSWER))
    assert len(answer) > RATE, "the Speech service synthesised no audio for the callee"
    phone.start(_write_microphone(phone.workdir / "microphone.wav", answer))

    headers = {"Authorization": f"Bearer {cluster.api_key}"}
    with httpx.Client(base_url=cluster.gateway_url, headers=headers, timeout=10) as api:
        placed = api.post("/call", json={**REQUEST, "phone_number": phone.user})
        assert placed.status_code in (200, 201), placed.text
        call_id = placed.json()["call_id"]

        def claim_filled() -> dict[str, Any] | None:
            call: dict[str, Any] = api.get(f"/call/{call_id}").json()
            if call["state"] in ("failed", "ended"):
                raise AssertionError(f"the call ended early: {call}; {sip_rig.logs()}")
            return call if call["claim"].get("incident_datetime") else None

        call = _wait_for("the claim's datetime", claim_filled, CALL_LIMIT_SEC, sip_rig)
        assert call["claim"] == {"incident_datetime": EXPECTED_DATETIME}, sip_rig.logs()

        # The bot recaps and asks whether there is anything else (about 5 s of audio);
        # the callee lets it finish, then hangs up (the form policy would wait for an
        # answer, and a second scripted line could not be timed against the bot's).
        def recap_said() -> dict[str, Any] | None:
            call: dict[str, Any] = api.get(f"/call/{call_id}").json()
            after = call["messages"][-1]
            return call if after["persona"] == "assistant" else None

        _wait_for("the bot's recap", recap_said, 20, sip_rig)
        time.sleep(RECAP_PLAY_SEC)
        phone.command("hangup")

        def ended() -> dict[str, Any] | None:
            call: dict[str, Any] = api.get(f"/call/{call_id}").json()
            return call if call["state"] == "ended" else None

        call = _wait_for("the end of the call", ended, 15, sip_rig)

    assert call["state_reason"] == "caller_hangup", sip_rig.logs()
    greeting = next(m for m in call["messages"] if m["persona"] == "assistant")
    assert "Joe" in greeting["content"] and "Contoso Insurance" in greeting["content"]
    assert greeting["interrupted"] is False

    heard = _transcribe(phone.heard()).lower()
    assert "joe" in heard and "insurance" in heard, (
        f"baresip did not hear the greeting; Whisper heard {heard!r}; {sip_rig.logs()}"
    )
