"""Conversation policies: what the agent says and does next.

``form`` (the embedded default) is deterministic; an LLM policy plugs into the
same :class:`~switchboard_brain.policy.base.ConversationPolicy` base.
"""

from __future__ import annotations

from switchboard_brain.policy.base import ConversationPolicy
from switchboard_brain.policy.form import FormPolicy

POLICIES: dict[str, type[ConversationPolicy]] = {FormPolicy.name: FormPolicy}


def create_policy(name: str) -> ConversationPolicy:
    """The policy registered under ``name`` (config ``brain.policy``)."""
    try:
        return POLICIES[name]()
    except KeyError:
        raise ValueError(f"unknown brain policy {name!r}; known: {sorted(POLICIES)}") from None
