"""The Brain gRPC servicer: a thin edge over sessions, the policy and the post-call report."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import grpc

from switchboard.clock import Clock
from switchboard.converse_wire import response_to_pb
from switchboard.errors import InvalidArgument
from switchboard.features import FeatureFlags
from switchboard.grpc_edge import grpc_errors
from switchboard.v1 import brain_pb2, brain_pb2_grpc
from switchboard_brain import wire
from switchboard_brain.policy.base import ConversationPolicy, DocumentSearch
from switchboard_brain.post_call import write_report
from switchboard_brain.session import ConversationSession
from switchboard_brain.store import CallStore
from switchboard_brain.stream import converse
from switchboard_brain.summary_llm import RuleSummarizer, Summarizer

if TYPE_CHECKING:
    from switchboard_brain.call_cache import CachedCallStore  # needs redis-py


class BrainServicer(brain_pb2_grpc.BrainServicer):
    """Converse (one stream per live call) and Summarize (post-call).

    With ``live_calls`` (Redis on), conversations read and write through that cache; a
    stream that ends normally (the call is over) drops its call from it.
    """

    def __init__(
        self,
        store: CallStore,
        clock: Clock,
        flags: FeatureFlags,
        policy: ConversationPolicy,
        summarizer: Summarizer | None = None,
        search: DocumentSearch | None = None,
        sms_delivers: bool = False,
        live_calls: CachedCallStore | None = None,
        languages: tuple[str, ...] = (),
    ) -> None:
        self._languages = languages
        self._live_calls = live_calls
        self._sms_delivers = sms_delivers
        self._store = store
        self._clock = clock
        self._flags = flags
        self._policy = policy
        self._summarizer = summarizer or RuleSummarizer()
        self._search = search

    @grpc_errors
    async def Converse(
        self,
        request_iterator: AsyncIterator[brain_pb2.ConverseRequest],
        context: grpc.aio.ServicerContext,
    ) -> AsyncIterator[brain_pb2.ConverseResponse]:
        requests = aiter(request_iterator)
        start = wire.start_from_pb(await anext(requests, None))
        store = self._live_calls or self._store
        session = await ConversationSession.open(
            store, start.call_id, self._policy, self._clock, self._flags, self._search
        )
        session.sms_delivers = self._sms_delivers
        session.sends_dtmf = start.sends_dtmf
        session.languages = self._languages
        async for event in converse(session, start, wire.events_from_pb(requests)):
            yield response_to_pb(event)
        if self._live_calls is not None:
            await self._live_calls.forget(start.call_id)

    @grpc_errors
    async def Summarize(
        self, request: brain_pb2.SummarizeRequest, context: grpc.aio.ServicerContext
    ) -> brain_pb2.SummarizeResponse:
        if not request.call_id:
            raise InvalidArgument("call_id is required")
        report = await write_report(self._store, self._summarizer, request.call_id)
        return wire.report_to_pb(report)


def register(server: grpc.aio.Server, servicer: BrainServicer) -> None:
    # Generated registration code carries no annotations.
    brain_pb2_grpc.add_BrainServicer_to_server(servicer, server)  # type: ignore[no-untyped-call]
