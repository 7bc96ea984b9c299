"""The knowledge-base seam: add chunks, search them by meaning."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from switchboard.domain import ChunkHit


@dataclass(frozen=True)
class TextChunk:
    """A piece of a document, small enough to quote in a prompt or on the phone."""

    id: str
    source: str
    title: str
    content: str


class KnowledgeBase(ABC):
    """Where the agent looks up answers. Scores are provider-specific: cosine similarity
    for ``store``, the search engine's relevance for ``azure``."""

    @abstractmethod
    async def add(self, chunks: list[TextChunk]) -> int:
        """Adds or replaces (by id) chunks; returns how many were stored."""

    @abstractmethod
    async def search(self, query: str, top_k: int = 3, min_score: float = 0.0) -> list[ChunkHit]:
        """The best chunks for ``query``, best first."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Releases connections."""
