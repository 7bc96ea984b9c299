"""Builds the speech test audio from the callee sentences, with the local TTS voices.

Nothing here is committed: the audio goes to ``tests/fixtures/audio/speech/``
(gitignored) and is rebuilt on demand. For each sentence and engine (Piper joe,
espeak-ng CLI) it writes 8 and 16 kHz PCM16 WAVs, clean and with white noise at
10 dB SNR, padded with 300 ms of silence before and 900 ms after (so a Listen
stream's silence window closes inside the clip).

    python services/speech/scripts/make_fixtures.py            # everything
    python services/speech/scripts/make_fixtures.py --ids 0-4  # a subset
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from switchboard_speech.audio import FloatAudio, float_to_pcm16, pcm16_to_float, resample

log = logging.getLogger("make_fixtures")

REPO = Path(__file__).resolve().parents[3]
SENTENCES = Path(__file__).with_name("callee_sentences.txt")
OUT_ENV = "SWITCHBOARD_FIXTURES_DIR"
ENGINES = ("piper", "espeak")
RATES = (8000, 16000)
CONDITIONS = ("clean", "snr10")
LEAD_MS, TRAIL_MS = 300, 900
SNR_DB = 10.0


def output_dir() -> Path:
    return Path(os.environ.get(OUT_ENV) or REPO / "tests" / "fixtures" / "audio" / "speech")


def load_sentences() -> list[str]:
    lines = SENTENCES.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


@dataclass(frozen=True)
class Clip:
    id: int
    engine: str
    rate: int
    condition: str
    text: str
    path: Path

    def pcm(self) -> bytes:
        with wave.open(str(self.path), "rb") as handle:
            return handle.readframes(handle.getnframes())


def clip_path(root: Path, engine: str, rate: int, condition: str, idx: int) -> Path:
    return root / engine / str(rate) / condition / f"{idx:02d}.wav"


def write_wav(path: Path, pcm: bytes, rate: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes(pcm)


def read_wav(path: Path) -> tuple[FloatAudio, int]:
    with wave.open(str(path), "rb") as handle:
        rate = handle.getframerate()
        return pcm16_to_float(handle.readframes(handle.getnframes())), rate


def add_noise(audio: FloatAudio, seed: int, snr_db: float = SNR_DB) -> FloatAudio:
    """White noise at ``snr_db`` below the speech's power (measured over non-silent samples)."""
    voiced = audio[np.abs(audio) > 1e-3]
    power = float(np.mean(voiced**2)) if len(voiced) else 1e-6
    noise = np.random.default_rng(seed).normal(
        0.0, np.sqrt(power / 10 ** (snr_db / 10)), len(audio)
    )
    return np.clip(audio + noise, -1.0, 1.0).astype(np.float32)


def pad(audio: FloatAudio, rate: int) -> FloatAudio:
    lead = np.zeros(rate * LEAD_MS // 1000, dtype=np.float32)
    trail = np.zeros(rate * TRAIL_MS // 1000, dtype=np.float32)
    return np.concatenate([lead, audio * 0.8, trail]).astype(np.float32)


class Renderer:
    """Native-rate audio of a sentence per engine; Piper is loaded once, on first use."""

    def __init__(self, piper: object | None = None) -> None:
        self._piper = piper

    def render(self, engine: str, text: str) -> tuple[FloatAudio, int]:
        if engine == "piper":
            from switchboard_speech.tts.base import Voice
            from switchboard_speech.tts.piper import DEFAULT_VOICE, PiperTTS

            if self._piper is None:
                self._piper = PiperTTS()
            assert isinstance(self._piper, PiperTTS)
            audio = self._piper.render_native(text, Voice(DEFAULT_VOICE, "en-US"))
            return audio, self._piper.native_rate
        if engine == "espeak":
            if shutil.which("espeak-ng") is None:
                raise RuntimeError("espeak-ng is not installed: apt-get install -y espeak-ng")
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "out.wav"
                subprocess.run(
                    ["espeak-ng", "-v", "en-us", "-w", str(path), text], check=True, timeout=60
                )
                return read_wav(path)
        raise ValueError(f"unknown engine {engine!r}")


def native_audio(
    root: Path, renderer: Renderer, engine: str, idx: int, text: str
) -> tuple[FloatAudio, int]:
    """The engine's rendering at its own rate, kept so every derived clip comes from one take
    (Piper samples its prosody: two renderings of a sentence differ)."""
    path = root / "native" / engine / f"{idx:02d}.wav"
    if path.exists():
        return read_wav(path)
    audio, rate = renderer.render(engine, text)
    write_wav(path, float_to_pcm16(audio), rate)
    return audio, rate


def ensure_clips(
    ids: list[int] | None = None,
    engines: tuple[str, ...] = ENGINES,
    rates: tuple[int, ...] = RATES,
    conditions: tuple[str, ...] = CONDITIONS,
    root: Path | None = None,
    renderer: Renderer | None = None,
) -> list[Clip]:
    """Makes the missing clips of the selection and returns all of them."""
    root = root or output_dir()
    texts = load_sentences()
    renderer = renderer or Renderer()
    selected = range(len(texts)) if ids is None else ids
    clips: list[Clip] = []
    for idx in selected:
        for engine in engines:
            wanted = [(r, c) for r in rates for c in conditions]
            paths = {(r, c): clip_path(root, engine, r, c, idx) for r, c in wanted}
            missing = {key: p for key, p in paths.items() if not p.exists()}
            if missing:
                native, native_rate = native_audio(root, renderer, engine, idx, texts[idx])
                for (rate, condition), path in missing.items():
                    audio = pad(resample(native, native_rate, rate), rate)
                    if condition == "snr10":
                        audio = add_noise(audio, seed=1000 * idx + rate // 1000)
                    write_wav(path, float_to_pcm16(audio), rate)
            clips.extend(Clip(idx, engine, r, c, texts[idx], paths[(r, c)]) for r, c in wanted)
    manifest = root / "manifest.json"
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(json.dumps({"sentences": texts}, indent=1), encoding="utf-8")
    return clips


def parse_ids(spec: str) -> list[int]:
    ids: list[int] = []
    for part in spec.split(","):
        start, _, end = part.partition("-")
        ids.extend(range(int(start), int(end or start) + 1))
    return ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ids", help="sentence indexes, e.g. 0-4,9 (default: all)")
    parser.add_argument("--engines", default=",".join(ENGINES))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    clips = ensure_clips(parse_ids(args.ids) if args.ids else None, tuple(args.engines.split(",")))
    log.info("fixtures ready", extra={"clips": len(clips), "dir": str(output_dir())})
    log.info("%d clips in %s", len(clips), output_dir())


if __name__ == "__main__":
    main()
