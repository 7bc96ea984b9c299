"""Driving the form policy through a session turn by turn, as the dialogue tests do."""

from __future__ import annotations

from collections.abc import AsyncIterator

from switchboard.config import Features
from switchboard.converse import AgentSentence, ConversationStart, ConverseResponse, UserTurn
from switchboard.features import FeatureFlags
from switchboard_brain.policy.form import FormPolicy
from switchboard_brain.session import ConversationSession
from switchboard_testing.brain_fakes import REFERENCE_NOW, InMemoryStore
from switchboard_testing.clock import VirtualClock


async def collect(events: AsyncIterator[ConverseResponse]) -> list[ConverseResponse]:
    return [event async for event in events]


async def open_session(
    store: InMemoryStore, call_id: str = "call-1", retry_max: int = 3
) -> ConversationSession:
    flags = FeatureFlags(Features(recognition_retry_max=retry_max))
    return await ConversationSession.open(
        store, call_id, FormPolicy(), VirtualClock(REFERENCE_NOW), flags
    )


def said(events: list[ConverseResponse]) -> str:
    return " ".join(e.text for e in events if isinstance(e, AgentSentence))


async def turn(session: ConversationSession, turn_id: str, text: str) -> list[ConverseResponse]:
    return await collect(session.handle(UserTurn(turn_id, text)))


async def greet(session: ConversationSession, call_id: str = "call-1") -> list[ConverseResponse]:
    """The call connects: the greeting and the first question."""
    return await collect(session.start(ConversationStart(call_id)))
