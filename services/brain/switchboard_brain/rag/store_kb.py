"""The embedded knowledge base: MiniLM vectors kept and searched by the Store service."""

from __future__ import annotations

import asyncio
from typing import Protocol

from switchboard.domain import ChunkHit, DocumentChunk
from switchboard_brain.rag.embedder import Embedder, default_embedder
from switchboard_brain.rag.knowledge import KnowledgeBase, TextChunk


class DocumentStore(Protocol):
    """The store calls used here (:class:`switchboard.store_client.StoreClient` has them)."""

    async def add_documents(self, chunks: list[DocumentChunk]) -> int: ...

    async def search_documents(
        self, embedding: list[float], top_k: int = 5, min_score: float = 0.0
    ) -> list[ChunkHit]: ...


def embedding_text(chunk: TextChunk) -> str:
    """The title gives a short chunk its context ("Opening hours" + "9 to 5")."""
    return f"{chunk.title}\n{chunk.content}" if chunk.title else chunk.content


class StoreKnowledgeBase(KnowledgeBase):
    """Embeds locally, stores and searches through Store.AddDocuments / SearchDocuments."""

    def __init__(self, store: DocumentStore, embedder: Embedder | None = None) -> None:
        self._store = store
        self._embedder = embedder

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = default_embedder()
        return self._embedder

    async def add(self, chunks: list[TextChunk]) -> int:
        vectors = await asyncio.to_thread(self.embedder.embed, [embedding_text(c) for c in chunks])
        return await self._store.add_documents(
            [
                DocumentChunk(
                    id=c.id,
                    source=c.source,
                    title=c.title,
                    content=c.content,
                    embedding=vector.tolist(),
                )
                for c, vector in zip(chunks, vectors, strict=True)
            ]
        )

    async def search(self, query: str, top_k: int = 3, min_score: float = 0.0) -> list[ChunkHit]:
        # The forward pass takes tens of milliseconds: off the event loop, so other calls
        # served by this brain keep streaming.
        vector = (await asyncio.to_thread(self.embedder.embed, [query]))[0]
        return await self._store.search_documents(vector.tolist(), top_k, min_score)
