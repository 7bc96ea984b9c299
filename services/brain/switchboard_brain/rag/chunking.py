"""Text and Markdown documents → chunks of about ``chunk_chars`` characters.

A chunk never spans two Markdown sections: its title is the nearest heading (or
the file name), which also goes into its embedding. Paragraphs are packed whole;
a paragraph longer than a chunk is cut between sentences.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from switchboard_brain.rag.knowledge import TextChunk

SUPPORTED_SUFFIXES = frozenset({".md", ".markdown", ".txt", ".text", ".rst"})
_HEADING_RE = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_PARAGRAPH_RE = re.compile(r"\n\s*\n")
_SENTENCE_RE = re.compile(r"(?<=[.!?])\s+")


def sections(text: str, default_title: str) -> list[tuple[str, str]]:
    """(heading, body) pairs in order; text before the first heading gets ``default_title``."""
    found: list[tuple[str, list[str]]] = [(default_title, [])]
    for line in text.splitlines():
        match = _HEADING_RE.match(line)
        if match:
            found.append((match.group(2).strip() or default_title, []))
        else:
            found[-1][1].append(line)
    return [(title, "\n".join(body).strip()) for title, body in found if "\n".join(body).strip()]


def _pieces(body: str, limit: int) -> list[str]:
    pieces: list[str] = []
    for paragraph in _PARAGRAPH_RE.split(body):
        paragraph = " ".join(paragraph.split())
        if not paragraph:
            continue
        if len(paragraph) <= limit:
            pieces.append(paragraph)
            continue
        current = ""
        for sentence in _SENTENCE_RE.split(paragraph):
            while len(sentence) > limit:  # one huge "sentence": cut it hard
                pieces.append(sentence[:limit])
                sentence = sentence[limit:]
            if current and len(current) + 1 + len(sentence) > limit:
                pieces.append(current)
                current = ""
            current = f"{current} {sentence}".strip()
        if current:
            pieces.append(current)
    return pieces


def chunk_text(text: str, source: str, title: str, chunk_chars: int = 800) -> list[TextChunk]:
    """The chunks of one document; ids are stable per (source, position), so adding a
    changed file again replaces its chunks."""
    chunks: list[TextChunk] = []
    for heading, body in sections(text, title):
        current = ""
        packed: list[str] = []
        for piece in _pieces(body, chunk_chars):
            if current and len(current) + 2 + len(piece) > chunk_chars:
                packed.append(current)
                current = ""
            current = f"{current}\n\n{piece}" if current else piece
        if current:
            packed.append(current)
        for content in packed:
            digest = hashlib.sha1(f"{source}\0{len(chunks)}".encode()).hexdigest()[:16]
            chunks.append(TextChunk(id=digest, source=source, title=heading, content=content))
    return chunks


def chunk_file(path: Path, chunk_chars: int = 800) -> list[TextChunk]:
    """A text or Markdown file's chunks; ``ValueError`` for a format not supported."""
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise ValueError(
            f"{path.name}: only text and Markdown files are supported "
            f"({', '.join(sorted(SUPPORTED_SUFFIXES))})"
        )
    text = path.read_text(encoding="utf-8", errors="replace")
    title = path.stem.replace("_", " ").replace("-", " ").strip().capitalize()
    return chunk_text(text, path.name, title, chunk_chars)
