"""The knowledge base: chunking, offline embeddings and the search providers.

``store`` (default) embeds chunks with all-MiniLM-L6-v2 (a numpy forward pass,
no torch) and keeps the vectors in the Store service; ``azure`` uses Azure AI Search.
Both implement :class:`~switchboard_brain.rag.knowledge.KnowledgeBase`.
"""

from __future__ import annotations

from typing import Any

from switchboard.config import RagSettings
from switchboard.providers import Seam, Vendor, create
from switchboard_brain.rag.knowledge import KnowledgeBase

KNOWLEDGE_BASES = Seam(
    "brain.rag.provider",
    KnowledgeBase,
    {
        "store": Vendor("switchboard_brain.rag.store_kb:StoreKnowledgeBase"),
        "azure": Vendor(
            "switchboard_brain.rag.azure_search:AzureSearchKnowledgeBase",
            extra="requirements-azure.txt",
            section="",
        ),
    },
)


def create_knowledge_base(settings: RagSettings, store: Any) -> KnowledgeBase | None:
    """The configured knowledge base, or None for ``provider: none``."""
    if settings.provider == "none":
        return None
    if settings.provider == "store":
        return create(KNOWLEDGE_BASES, "store", store=store)
    return create(KNOWLEDGE_BASES, settings.provider, settings)
