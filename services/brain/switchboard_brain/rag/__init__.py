"""The knowledge base: chunking, offline embeddings and the search providers.

``store`` (default) embeds chunks with all-MiniLM-L6-v2 (a numpy forward pass,
no torch) and keeps the vectors in the Store service; ``azure`` uses Azure AI Search.
Both implement :class:`~switchboard_brain.rag.knowledge.KnowledgeBase`.
"""

from __future__ import annotations

import os
from typing import Any

from switchboard.config import RagSettings
from switchboard.providers import create_provider
from switchboard_brain.rag.knowledge import KnowledgeBase

KNOWLEDGE_BASES = {
    "store": "switchboard_brain.rag.store_kb:StoreKnowledgeBase",
    "azure": "switchboard_brain.rag.azure_search:AzureSearchKnowledgeBase",
}


def create_knowledge_base(settings: RagSettings, store: Any) -> KnowledgeBase | None:
    """The configured knowledge base, or None for ``provider: none``."""
    if settings.provider == "none":
        return None
    if settings.provider == "azure":
        return create_provider(
            "brain.rag.provider",
            "azure",
            KNOWLEDGE_BASES,
            KnowledgeBase,
            endpoint=settings.azure_endpoint,
            index=settings.azure_index,
            api_key=os.environ.get(settings.azure_api_key_env, ""),
        )
    return create_provider(
        "brain.rag.provider", "store", KNOWLEDGE_BASES, KnowledgeBase, store=store
    )
