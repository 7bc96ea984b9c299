"""The knowledge base: chunks with embeddings, searched by cosine similarity."""

from __future__ import annotations

import pytest

from switchboard.errors import InvalidArgument
from switchboard_store.repository import CallRepository, DocumentChunk


def chunk(chunk_id: str, embedding: list[float], content: str = "") -> DocumentChunk:
    return DocumentChunk(id=chunk_id, content=content or f"about {chunk_id}", embedding=embedding)


async def test_search_returns_the_closest_chunks_best_first(repo: CallRepository) -> None:
    added = await repo.add_documents(
        [
            chunk("east", [1.0, 0.0, 0.0]),
            chunk("north", [0.0, 1.0, 0.0]),
            chunk("north-east", [1.0, 1.0, 0.0]),
        ]
    )
    hits = await repo.search_documents([2.0, 0.1, 0.0], top_k=2)

    assert added == 3
    assert [h.id for h in hits] == ["east", "north-east"]
    assert hits[0].score == pytest.approx(0.99875, abs=1e-4)
    assert hits[0].content == "about east"


async def test_min_score_filters_weak_matches(repo: CallRepository) -> None:
    await repo.add_documents([chunk("east", [1.0, 0.0]), chunk("north", [0.0, 1.0])])
    hits = await repo.search_documents([1.0, 0.0], top_k=5, min_score=0.5)
    assert [h.id for h in hits] == ["east"]


async def test_adding_a_chunk_again_replaces_it_and_search_sees_it(
    repo: CallRepository,
) -> None:
    await repo.add_documents([chunk("a", [1.0, 0.0], "old")])
    assert (await repo.search_documents([1.0, 0.0]))[0].content == "old"
    await repo.add_documents([chunk("a", [0.0, 1.0], "new")])
    hits = await repo.search_documents([0.0, 1.0])
    assert [(h.id, h.content) for h in hits] == [("a", "new")]


async def test_an_empty_knowledge_base_finds_nothing(repo: CallRepository) -> None:
    assert await repo.search_documents([1.0, 2.0]) == []


async def test_a_dimension_mismatch_is_refused(repo: CallRepository) -> None:
    await repo.add_documents([chunk("a", [1.0, 0.0, 0.0])])
    with pytest.raises(InvalidArgument, match="3"):
        await repo.add_documents([chunk("b", [1.0, 0.0])])
    with pytest.raises(InvalidArgument, match="dimensions"):
        await repo.search_documents([1.0, 0.0])
    with pytest.raises(InvalidArgument, match="dimensions"):
        await repo.add_documents([chunk("c", [1.0, 0.0, 0.0]), chunk("d", [1.0])])
    assert [h.id for h in await repo.search_documents([1.0, 0.0, 0.0])] == ["a"]


@pytest.mark.parametrize(
    ("embedding", "reason"),
    [([], "empty"), ([0.0, 0.0], "length zero"), ([float("nan"), 1.0], "finite")],
)
async def test_unusable_embeddings_are_refused(
    repo: CallRepository, embedding: list[float], reason: str
) -> None:
    with pytest.raises(InvalidArgument, match=reason):
        await repo.add_documents([chunk("a", embedding)])
    with pytest.raises(InvalidArgument, match=reason):
        await repo.search_documents(embedding)


async def test_top_k_defaults_to_five_and_is_capped_at_fifty(repo: CallRepository) -> None:
    await repo.add_documents([chunk(f"c{i}", [1.0, i / 100]) for i in range(60)])
    assert len(await repo.search_documents([1.0, 0.0], top_k=0)) == 5
    assert len(await repo.search_documents([1.0, 0.0], top_k=500)) == 50
    with pytest.raises(InvalidArgument, match="top_k"):
        await repo.search_documents([1.0, 0.0], top_k=-1)
