"""Azure AI Search as the knowledge base (``brain.rag.provider: azure``).

Needs ``azure-search-documents`` (requirements-azure.txt). The index must have the
fields ``id`` (key), ``content``, ``title`` and ``source`` (searchable text); queries
are full-text with the index's own ranking, so scores are Azure's relevance, not
cosine similarity, and ``min_score`` compares against those.
"""

from __future__ import annotations

import os
from typing import Any

from switchboard.config import ConfigError, RagSettings
from switchboard.domain import ChunkHit
from switchboard.errors import Unavailable
from switchboard_brain.rag.knowledge import KnowledgeBase, TextChunk

_EXTRA = "requirements-azure.txt"


def _sdk_client(endpoint: str, index: str, api_key: str) -> Any:
    try:
        from azure.core.credentials import AzureKeyCredential  # type: ignore[import-not-found,import-untyped,unused-ignore]
        from azure.search.documents.aio import SearchClient  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ModuleNotFoundError as exc:
        raise ConfigError(
            f"brain.rag.provider azure needs azure-search-documents; install {_EXTRA}"
        ) from exc
    if not endpoint or not index or not api_key:
        raise ConfigError(
            "brain.rag.provider azure needs brain.rag.azure_endpoint, brain.rag.azure_index "
            "and the key in the environment variable named by brain.rag.azure_api_key_env"
        )
    return SearchClient(endpoint, index, AzureKeyCredential(api_key))


class AzureSearchKnowledgeBase(KnowledgeBase):
    """Uploads chunks as index documents and searches them with full-text queries."""

    def __init__(self, settings: RagSettings | None = None, client: Any = None) -> None:
        if client is None:
            settings = settings or RagSettings()
            api_key = os.environ.get(settings.azure_api_key_env, "")
            client = _sdk_client(settings.azure_endpoint, settings.azure_index, api_key)
        self._client = client

    async def add(self, chunks: list[TextChunk]) -> int:
        documents = [
            {"id": _key(c.id), "content": c.content, "title": c.title, "source": c.source}
            for c in chunks
        ]
        try:
            results = await self._client.upload_documents(documents=documents)
        except Exception as exc:  # the SDK's errors are wrapped, never leaked
            raise Unavailable(f"Azure AI Search upload failed: {type(exc).__name__}") from exc
        return sum(1 for r in results if getattr(r, "succeeded", False))

    async def search(self, query: str, top_k: int = 3, min_score: float = 0.0) -> list[ChunkHit]:
        hits: list[ChunkHit] = []
        try:
            results = await self._client.search(search_text=query, top=top_k)
            async for doc in results:
                score = float(doc.get("@search.score", 0.0))
                if score < min_score:
                    continue
                hits.append(
                    ChunkHit(
                        id=str(doc.get("id", "")),
                        source=str(doc.get("source", "")),
                        title=str(doc.get("title", "")),
                        content=str(doc.get("content", "")),
                        score=score,
                    )
                )
        except Exception as exc:
            raise Unavailable(f"Azure AI Search query failed: {type(exc).__name__}") from exc
        return hits

    async def close(self) -> None:
        await self._client.close()


def _key(chunk_id: str) -> str:
    """Azure keys allow letters, digits, ``_``, ``-`` and ``=`` only."""
    return "".join(ch if ch.isalnum() or ch in "_-=" else "_" for ch in chunk_id)
