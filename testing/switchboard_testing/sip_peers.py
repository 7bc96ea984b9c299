"""Real SIP peers for the tests (baresip, sipp, kamailio) and audio helpers.

Each peer runs in its own temp dir on free loopback ports and is stopped by its
context manager. Tests skip with a clear reason when a binary is missing.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import subprocess
import wave
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

HOST = "127.0.0.1"
SIPP_PCAPS = Path("/usr/share/sip-tester")
KAMAILIO_MODULES = Path("/usr/lib/x86_64-linux-gnu/kamailio/modules")


def need(binary: str) -> str:
    path = shutil.which(binary)
    if path is None:
        pytest.skip(f"{binary} is not installed (see services/dialer/tests/sip/APT_PACKAGES)")
    return path


def tone(freq: float, seconds: float, rate: int = 8000, amplitude: int = 8000) -> bytes:
    t = np.arange(int(rate * seconds)) / rate
    return (np.sin(2 * np.pi * freq * t) * amplitude).astype("<i2").tobytes()


def dominant_frequency(pcm: bytes, rate: int = 8000) -> float:
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.argmax(spectrum) * rate / len(samples))


def rms_dbfs(pcm: bytes) -> float:
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    rms = np.sqrt(np.mean(samples**2)) if len(samples) else 0.0
    return float(20 * np.log10(max(rms, 1e-9) / 32768))


def write_tone_wav(path: Path, freq: float, seconds: float) -> Path:
    sox = shutil.which("sox")
    if sox is not None:
        subprocess.run(
            [
                sox,
                "-n",
                "-r",
                "8000",
                "-c",
                "1",
                "-b",
                "16",
                str(path),
                "synth",
                str(seconds),
                "sine",
                str(freq),
                "vol",
                "0.5",
            ],
            check=True,
        )
        return path
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(tone(freq, seconds, amplitude=16000))
    return path


def read_wav(path: Path) -> bytes:
    with wave.open(str(path), "rb") as wav:
        return wav.readframes(wav.getnframes())


async def collect_audio(frames: AsyncIterator[bytes], seconds: float) -> bytes:
    """Reads ``seconds`` of audio (or until the iterator ends)."""
    out = bytearray()
    async for frame in frames:
        out += frame
        if len(out) >= seconds * 16000:
            break
    return bytes(out)


async def wait_sip_ready(port: int, within_sec: float = 5.0) -> None:
    """Sends OPTIONS until anything answers on ``port``."""
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((HOST, 0))
    sock.setblocking(False)
    me = sock.getsockname()[1]
    options = (
        f"OPTIONS sip:ping@{HOST}:{port} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {HOST}:{me};branch=z9hG4bKready{port}\r\n"
        f"From: <sip:probe@{HOST}>;tag=probe\r\nTo: <sip:ping@{HOST}>\r\n"
        f"Call-ID: ready-{port}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    ).encode()
    try:
        async with asyncio.timeout(within_sec):
            while True:
                sock.sendto(options, (HOST, port))
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(0.1):
                        await loop.sock_recv(sock, 65535)
                        return
    finally:
        sock.close()


async def wait_udp_bound(port: int, within_sec: float = 5.0) -> None:
    """Waits until someone has bound UDP ``port`` (for peers that must not get probes)."""
    async with asyncio.timeout(within_sec):
        while True:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                try:
                    sock.bind((HOST, port))
                except OSError:
                    return
            await asyncio.sleep(0.05)


class Process:
    """A peer process with its output in its temp dir; stopped on exit."""

    def __init__(self, name: str, argv: list[str], cwd: Path) -> None:
        self.name = name
        self.argv = argv
        self.cwd = cwd
        self.proc: asyncio.subprocess.Process | None = None
        self.log_path = cwd / f"{name}.log"

    async def start(self) -> None:
        log = self.log_path.open("wb")
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv, cwd=self.cwd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()

    async def wait(self, within_sec: float) -> int:
        assert self.proc is not None
        return await asyncio.wait_for(self.proc.wait(), within_sec)

    async def stop(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.terminate()
        try:
            await asyncio.wait_for(self.proc.wait(), 3)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
