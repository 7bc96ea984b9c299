"""How the form policy answers a caller's question from the knowledge base: only when
the best chunk scores above a threshold, with the one or two sentences of it that
share the most words with the question (a chunk is too long to read on the phone)."""

from __future__ import annotations

import re

from switchboard.domain import ChunkHit

_QUESTION_RE = re.compile(
    r"(?i)^\s*(?:and |so |but |um,? |uh,? |hey,? |sorry,? )*"
    r"(what|what's|whats|which|who|whom|whose|where|when|why|how|do|does|did|can|could|is|are|"
    r"was|were|will|would|should|shall|may|might|have|has)\b"
)
_SENTENCE_RE = re.compile(r"(?<=[.!?])\s+")
_WORD_RE = re.compile(r"[a-z0-9']+")
_STOP = frozenset(
    "a an the is are was were do does did can could will would should i you we it to of in on "
    "for and or my your our what how when where why which who me us be there that this with "
    "have has at by from".split()
)
MAX_SENTENCES = 2
MAX_CHARS = 320


def is_question(text: str) -> bool:
    """ "What is…?", "do you…?", "how…?", or anything ending with a question mark."""
    return text.strip().endswith("?") or bool(_QUESTION_RE.match(text))


def _words(text: str) -> set[str]:
    return {w for w in _WORD_RE.findall(text.lower()) if w not in _STOP}


def spoken_answer(question: str, hit: ChunkHit) -> list[str]:
    """The sentences of ``hit`` that best answer ``question``, in their original order."""
    sentences = [s.strip() for s in _SENTENCE_RE.split(" ".join(hit.content.split())) if s.strip()]
    if not sentences:
        return []
    asked = _words(question)
    ranked = sorted(range(len(sentences)), key=lambda i: (-len(asked & _words(sentences[i])), i))
    chosen: list[int] = []
    length = 0
    for i in ranked[:MAX_SENTENCES]:
        if chosen and length + len(sentences[i]) > MAX_CHARS:
            break
        chosen.append(i)
        length += len(sentences[i])
    return [sentences[i][:MAX_CHARS] for i in sorted(chosen)]


def best_hit(hits: list[ChunkHit], min_score: float) -> ChunkHit | None:
    top = max(hits, key=lambda h: h.score, default=None)
    return top if top is not None and top.score >= min_score else None
