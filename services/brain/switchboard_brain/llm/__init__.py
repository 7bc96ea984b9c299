"""Chat models: one base class (:class:`ChatModel`), one module per vendor protocol.

Every supported endpoint speaks OpenAI chat completions (OpenAI, Azure OpenAI, vLLM,
Ollama, llama.cpp server), so there is one real provider, ``openai``; ``fallback``
wraps others (fast → slow). Tests use the scripted fake, which implements the same
base class.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from switchboard.config import LlmSettings
from switchboard.providers import Seam, Vendor, create
from switchboard_brain.llm.base import ChatModel

CHAT_MODELS = Seam(
    "brain.llm",
    ChatModel,
    {
        "openai": Vendor(
            "switchboard_brain.llm.openai_chat:OpenAIChatModel",
            extra="requirements-llm.txt",
            section="",
        ),
        "fallback": Vendor("switchboard_brain.llm.fallback:FallbackChatModel"),
    },
)


def create_chat_models(settings: LlmSettings) -> tuple[ChatModel, ChatModel]:
    """(fast, slow) models of the configured endpoint; slow is fast when not configured."""
    fast = create(CHAT_MODELS, "openai", settings, model=settings.fast_model)
    if not settings.slow_model or settings.slow_model == settings.fast_model:
        return fast, fast
    slow = create(CHAT_MODELS, "openai", settings, model=settings.slow_model)
    return fast, slow


def create_fallback(
    *models: ChatModel, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
) -> ChatModel:
    """One chat model that asks ``models`` in order until one answers."""
    return create(CHAT_MODELS, "fallback", models=models, sleep=sleep)
