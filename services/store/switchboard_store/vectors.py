"""Embeddings: validation, float32 blobs, and cosine search over an in-memory matrix.

Vectors are L2-normalised when stored, so cosine similarity is one matrix-vector
product. Brute force is exact and fast enough for the embedded default (tens of
thousands of chunks of 384 floats take a few milliseconds); the production backend
is a real vector index (Azure AI Search).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from switchboard.errors import InvalidArgument
from switchboard_store.validation import MAX_EMBEDDING_DIMENSION

Matrix = npt.NDArray[np.float32]


def normalised(values: Sequence[float], what: str) -> Matrix:
    """The vector scaled to length 1; InvalidArgument if empty, too long, not finite or zero."""
    if not values:
        raise InvalidArgument(f"{what} is empty")
    if len(values) > MAX_EMBEDDING_DIMENSION:
        raise InvalidArgument(f"{what} has more than {MAX_EMBEDDING_DIMENSION} dimensions")
    vector = np.asarray(values, dtype=np.float32)
    if not np.all(np.isfinite(vector)):
        raise InvalidArgument(f"{what} contains a value that is not a finite number")
    norm = float(np.linalg.norm(vector.astype(np.float64)))
    if norm == 0.0 or not np.isfinite(norm):
        raise InvalidArgument(f"{what} has length zero; cosine similarity needs a direction")
    result: Matrix = (vector / np.float32(norm)).astype(np.float32)
    return result


def to_blob(vector: Matrix) -> bytes:
    return vector.astype("<f4").tobytes()


def from_blob(blob: bytes) -> Matrix:
    return np.frombuffer(blob, dtype="<f4").astype(np.float32)


@dataclass(frozen=True)
class VectorIndex:
    """Every stored chunk's id and normalised embedding, one row per chunk."""

    ids: list[str]
    matrix: Matrix

    @property
    def dimension(self) -> int:
        return int(self.matrix.shape[1]) if self.ids else 0

    @classmethod
    def build(cls, rows: Sequence[tuple[str, bytes]]) -> VectorIndex:
        if not rows:
            return cls([], np.zeros((0, 0), dtype=np.float32))
        return cls([r[0] for r in rows], np.vstack([from_blob(r[1]) for r in rows]))

    def top(self, query: Matrix, k: int, min_score: float) -> list[tuple[str, float]]:
        """The ``k`` best ``(id, cosine)`` pairs with a score of at least ``min_score``."""
        if not self.ids:
            return []
        scores = self.matrix @ query
        k = min(k, len(self.ids))
        best = np.argpartition(-scores, k - 1)[:k]
        best = best[np.argsort(-scores[best], kind="stable")]
        return [(self.ids[i], float(scores[i])) for i in best if float(scores[i]) >= min_score]
