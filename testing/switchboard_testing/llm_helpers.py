"""Running the llm policy through a real session, on virtual time."""

from __future__ import annotations

from switchboard.config import Features, LlmSettings
from switchboard.converse import AgentSentence, ConverseResponse, UserTurn
from switchboard.features import FeatureFlags
from switchboard_brain.llm.fallback import FallbackChatModel
from switchboard_brain.llm.tokens import EstimatedTokens
from switchboard_brain.policy.base import DocumentSearch
from switchboard_brain.policy.llm import LlmPolicy
from switchboard_brain.session import ConversationSession
from switchboard_testing.brain_fakes import REFERENCE_NOW, InMemoryStore, ScriptedChatModel
from switchboard_testing.clock import VirtualClock


class Rig:
    """A call, a store, a fast and a slow scripted model, and a session of the llm policy."""

    def __init__(self, **settings: object) -> None:
        self.time = VirtualClock(REFERENCE_NOW)
        self.store = InMemoryStore()
        self.store.new_call()
        self.fast = ScriptedChatModel(sleep=self.time.sleep, model="fast")
        self.slow = ScriptedChatModel(sleep=self.time.sleep, model="slow")
        self.settings = LlmSettings(endpoint="http://fake", fast_model="fast", **settings)  # type: ignore[arg-type]
        self.features = Features()
        sleep = self.time.sleep
        self.policy = LlmPolicy(
            self.settings,
            FallbackChatModel((self.fast, self.slow), sleep),
            FallbackChatModel((self.slow, self.fast), sleep),
            sleep=sleep,
            counter=EstimatedTokens(),
        )
        self.session: ConversationSession | None = None
        self.arrivals: list[tuple[float, ConverseResponse]] = []

    async def open(self, search: DocumentSearch | None = None) -> ConversationSession:
        self.session = await ConversationSession.open(
            self.store,
            "call-1",
            self.policy,
            VirtualClock(REFERENCE_NOW),
            FeatureFlags(self.features),
            search,
        )
        return self.session

    async def say(self, text: str, turn_id: str = "t1") -> list[ConverseResponse]:
        session = self.session or await self.open()

        async def consume() -> list[ConverseResponse]:
            events = []
            async for event in session.handle(UserTurn(turn_id, text)):
                self.arrivals.append((self.time.monotonic(), event))
                events.append(event)
            return events

        return await self.time.run(consume())

    @property
    def call(self):  # type: ignore[no-untyped-def]
        return self.store.calls["call-1"]


def sentences(events: list[ConverseResponse], filler: bool | None = None) -> list[str]:
    return [
        e.text
        for e in events
        if isinstance(e, AgentSentence) and (filler is None or e.filler == filler)
    ]
