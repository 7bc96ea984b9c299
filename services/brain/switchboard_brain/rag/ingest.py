"""Files → chunks → knowledge base, in batches, with progress reported per chunk."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from switchboard_brain.rag.chunking import chunk_file
from switchboard_brain.rag.knowledge import KnowledgeBase, TextChunk

BATCH = 64  # chunks embedded and sent per store request (the store takes up to 1000)


@dataclass
class IngestReport:
    files: int = 0
    chunks: int = 0
    added: int = 0
    skipped: list[str] = field(default_factory=list)  # "name: why"


def collect_chunks(
    paths: Sequence[Path], chunk_chars: int, report: IngestReport
) -> list[TextChunk]:
    chunks: list[TextChunk] = []
    for path in paths:
        try:
            found = chunk_file(path, chunk_chars)
        except (ValueError, OSError) as exc:
            report.skipped.append(str(exc) if isinstance(exc, ValueError) else f"{path}: {exc}")
            continue
        report.files += 1
        chunks.extend(found)
    report.chunks = len(chunks)
    return chunks


async def ingest(
    kb: KnowledgeBase,
    paths: Sequence[Path],
    chunk_chars: int = 800,
    progress: Callable[[int], None] | None = None,
    on_chunks: Callable[[int], None] | None = None,
) -> IngestReport:
    """Adds every supported file; ``on_chunks(total)`` once counted, ``progress(n)`` per batch."""
    report = IngestReport()
    chunks = collect_chunks(paths, chunk_chars, report)
    if on_chunks is not None:
        on_chunks(len(chunks))
    for start in range(0, len(chunks), BATCH):
        batch = chunks[start : start + BATCH]
        report.added += await kb.add(batch)
        if progress is not None:
            progress(len(batch))
    return report
