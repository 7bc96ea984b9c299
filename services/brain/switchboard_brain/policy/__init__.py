"""Conversation policies: what the agent says and does next, chosen by ``brain.policy``.

``form`` (the embedded default) is deterministic; ``llm`` is a tool-calling agent over
a chat model. Both implement :class:`~switchboard_brain.policy.base.ConversationPolicy`
and come from the shared registry, each given its own settings section.
"""

from __future__ import annotations

from typing import Any

from switchboard.config import BrainSettings
from switchboard.providers import Seam, Vendor, create
from switchboard_brain.policy.base import ConversationPolicy

POLICIES = Seam(
    "brain.policy",
    ConversationPolicy,
    {
        "form": Vendor("switchboard_brain.policy.form:FormPolicy", section="rag"),
        # Its chat models are dependencies: ``chat`` and ``slow_chat``.
        "llm": Vendor("switchboard_brain.policy.llm:LlmPolicy", section="llm"),
    },
)


def create_policy(name: str, settings: BrainSettings, **dependencies: Any) -> ConversationPolicy:
    """The policy registered under ``name`` (config ``brain.policy``)."""
    return create(POLICIES, name, settings, **dependencies)
