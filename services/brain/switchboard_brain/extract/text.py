"""Free-text answers: the caller's words without fillers and lead-ins."""

from __future__ import annotations

import re

_FILLER_RE = re.compile(r"(?i)\b(?:um+|uh+|uhm+|erm+|er|ah+|hmm+|mm+|you know|i mean)\b[,.]?\s*")
_LEAD_IN_RE = re.compile(
    r"(?i)^(?:(?:well|so|okay|ok|yes|yeah|sure|right|oh)\b[,.]?\s+)*"
    r"(?:it'?s|it is|that'?s|that is|(?:my|our) (?:[\w'-]+ ){1,3}(?:is|are))\s+"
)
_SPACES_RE = re.compile(r"\s+")
_TRAILING_RE = re.compile(r"[\s,;:]+$")
_LEADING_RE = re.compile(r"^[\s,;:.]+")


def clean_text(text: str) -> str:
    """ "Um, my name is uh John Smith." → "John Smith."; empty when nothing is left.

    Otherwise the caller's own words and final punctuation are kept: the value is
    what they said, not a paraphrase."""
    cleaned = _FILLER_RE.sub("", text)
    cleaned = _SPACES_RE.sub(" ", cleaned).strip()
    cleaned = _LEADING_RE.sub("", cleaned)
    cleaned = _LEAD_IN_RE.sub("", cleaned, count=1)
    return _TRAILING_RE.sub("", cleaned).strip()
