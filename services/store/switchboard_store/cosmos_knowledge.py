"""The knowledge base on Cosmos DB: chunks in ``documents``, its state in ``meta``.

Search is the same exact numpy search as on SQLite and PostgreSQL over the stored
embeddings (float32, base64 in the item); Cosmos DB's own vector search is not used, as
the local fake could not answer it faithfully. The ``knowledge`` document in ``meta``
fixes the dimension (created once: of two first adds with different dimensions one
wins, the other is refused) and counts changes, so a replica rebuilds its matrix only
when another one added chunks. A chunk's item id is a hash of its id: a chunk id may
hold characters Cosmos DB ids cannot (``/ \\ ? #``).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from azure.cosmos import exceptions

from switchboard_store import rows, vectors, write_rules
from switchboard_store.cosmos_db import Containers
from switchboard_store.repository import DocumentChunk

KIND = "knowledge"
Item = dict[str, Any]


def item_id(chunk_id: str) -> str:
    return "chunk-" + hashlib.sha256(chunk_id.encode()).hexdigest()


async def state(containers: Containers) -> Item | None:
    """The ``knowledge`` document: ``dimension`` and ``generation``; None before the first add."""
    try:
        doc: Item = await containers.meta.read_item(KIND, partition_key=KIND)
    except exceptions.CosmosResourceNotFoundError:
        return None
    return doc


async def _fixed_dimension(containers: Containers, dimension: int) -> int:
    """The knowledge base's dimension: ``dimension`` if this add is the first."""
    try:
        await containers.meta.create_item(
            {"id": KIND, "kind": KIND, "dimension": dimension, "generation": 0}
        )
    except exceptions.CosmosResourceExistsError:
        found = await state(containers)
        assert found is not None
        return int(found["dimension"])
    return dimension


async def add(containers: Containers, chunks: Sequence[DocumentChunk], now: datetime) -> int:
    """Adds or replaces chunks by id. Every chunk is checked before any is written."""
    known = await state(containers)
    dimension = int(known["dimension"]) if known else None
    checked = []
    for index, chunk in enumerate(chunks):
        vector, dimension = write_rules.checked_chunk(index, chunk, dimension)
        checked.append((chunk, vector))
    assert dimension is not None
    if known is None and await _fixed_dimension(containers, dimension) != dimension:
        return await add(containers, chunks, now)  # another add fixed it first: check again
    for chunk, vector in checked:
        await containers.documents.upsert_item(
            {
                "id": item_id(chunk.id),
                "chunk_id": chunk.id,
                "source": chunk.source,
                "title": chunk.title,
                "content": chunk.content,
                "dimension": dimension,
                "embedding": base64.b64encode(vectors.to_blob(vector)).decode(),
                "updated_at": rows.stamp(now),
            }
        )
    await _bump_generation(containers)
    return write_rules.added_count(chunks)


async def _bump_generation(containers: Containers) -> None:
    while True:
        doc = await state(containers)
        assert doc is not None
        body = {k: v for k, v in doc.items() if not k.startswith("_")}
        body["generation"] = int(doc["generation"]) + 1
        try:
            await containers.meta.replace_item(KIND, body, if_match=doc["_etag"])
            return
        except exceptions.CosmosAccessConditionFailedError:
            continue


async def vectors_of(containers: Containers) -> list[tuple[str, bytes]]:
    return [
        (item["chunk_id"], base64.b64decode(item["embedding"]))
        async for item in containers.documents.query_items("SELECT c.chunk_id, c.embedding FROM c")
    ]


async def chunks(containers: Containers, ids: Sequence[str]) -> dict[str, Item]:
    """The stored chunks among ``ids`` (point reads), by chunk id."""

    async def read(chunk_id: str) -> Item | None:
        key = item_id(chunk_id)
        try:
            doc: Item = await containers.documents.read_item(key, partition_key=key)
        except exceptions.CosmosResourceNotFoundError:
            return None
        return doc

    found = await asyncio.gather(*(read(i) for i in ids))
    return {doc["chunk_id"]: doc for doc in found if doc is not None}
