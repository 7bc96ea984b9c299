"""The live-call cache on the real Redis: read-through, kept current by the brain's writes,
never left stale by a write that failed or raced a read, and shared by replicas."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from redis.asyncio import Redis

from switchboard.config import Features, RedisSettings
from switchboard.domain import Call, Message, NextAction, Persona, Reminder, Synthesis
from switchboard.errors import InvalidArgument
from switchboard.features import FeatureFlags
from switchboard.redis_link import RedisNames, open_redis
from switchboard.server import GrpcService
from switchboard.v1 import brain_pb2, brain_pb2_grpc
from switchboard_brain.call_cache import CachedCallStore
from switchboard_brain.policy.form import FormPolicy
from switchboard_brain.servicer import BrainServicer, register
from switchboard_testing.brain_fakes import REFERENCE_NOW, InMemoryStore
from switchboard_testing.clock import VirtualClock
from switchboard_testing.redis_server import redis_for_test, redis_settings_for_test

CALL = "call-1"
TTL_SEC = 60


@pytest.fixture
def settings() -> RedisSettings:
    return redis_settings_for_test(call_cache_ttl_sec=TTL_SEC)


@pytest.fixture
async def redis(settings: RedisSettings) -> AsyncIterator[Redis]:
    async with redis_for_test(settings) as client:
        yield client


@pytest.fixture
def store() -> InMemoryStore:
    store = InMemoryStore()
    store.new_call(CALL)
    return store


def replica(store: InMemoryStore, redis: Redis, settings: RedisSettings) -> CachedCallStore:
    return CachedCallStore(store, redis, RedisNames.from_settings(settings), TTL_SEC)


@pytest.fixture
def cache(store: InMemoryStore, redis: Redis, settings: RedisSettings) -> CachedCallStore:
    return replica(store, redis, settings)


def said(text: str, turn: str) -> Message:
    return Message(persona=Persona.HUMAN, content=text, turn_id=turn)


async def test_the_first_read_loads_the_store_and_the_next_is_served_from_redis(
    cache: CachedCallStore, store: InMemoryStore, redis: Redis, settings: RedisSettings
) -> None:
    first = await cache.get_call(CALL)
    second = await cache.get_call(CALL)

    assert second == first
    assert store.read_call_ids == [CALL]
    assert (cache.hits, cache.misses) == (1, 1)
    assert 0 < await redis.ttl(RedisNames.from_settings(settings).live_call(CALL)) <= TTL_SEC


async def test_the_brain_s_writes_keep_the_cached_copy_equal_to_the_store(
    cache: CachedCallStore, store: InMemoryStore
) -> None:
    await cache.get_call(CALL)
    await cache.append_messages(CALL, [said("my door", "t1")], policy_state='{"asked":"email"}')
    await cache.append_messages(CALL, [said("my door was hit", "t1")])  # a replaced message
    await cache.update_claim(CALL, {"description": "a dent"})
    await cache.upsert_reminder(CALL, Reminder(title="Call back", description="at noon"))
    await cache.upsert_reminder(CALL, Reminder(title="Call back", description="at one"))
    await cache.set_call_language(CALL, "fr-FR")

    cached = await cache.get_call(CALL)

    assert store.read_call_ids == [CALL]  # every read after the first was a hit
    assert cached == store.calls[CALL]
    assert [m.content for m in cached.messages] == ["my door was hit"]
    assert (cached.claim, cached.lang) == ({"description": "a dent"}, "fr-FR")
    assert [r.description for r in cached.reminders] == ["at one"]


async def test_a_write_the_store_refused_leaves_no_cached_copy(
    cache: CachedCallStore, store: InMemoryStore
) -> None:
    await cache.get_call(CALL)
    with pytest.raises(InvalidArgument):
        await cache.update_claim(CALL, {"no_such_field": "x"})

    await cache.get_call(CALL)
    assert store.read_call_ids == [CALL, CALL]  # a miss: loaded again


async def test_a_replica_taking_over_the_call_reads_it_from_redis_not_the_store(
    store: InMemoryStore, redis: Redis, settings: RedisSettings
) -> None:
    dying, taking_over = replica(store, redis, settings), replica(store, redis, settings)
    await dying.get_call(CALL)
    await dying.append_messages(CALL, [said("hello", "t1")], policy_state="s1")
    await dying.update_claim(CALL, {"email": "a@example.com"})

    resumed = await taking_over.get_call(CALL)

    assert store.read_call_ids == [CALL]
    assert resumed == store.calls[CALL]
    assert (taking_over.hits, taking_over.misses) == (1, 0)


async def test_a_read_racing_a_write_does_not_cache_what_it_read_before_the_write(
    store: InMemoryStore, redis: Redis, settings: RedisSettings
) -> None:
    writer = replica(store, redis, settings)

    class WrittenWhileReading(InMemoryStore):
        async def get_call(self, call_id: str) -> Call:
            before = await store.get_call(call_id)
            await writer.update_claim(call_id, {"email": "late@example.com"})
            return before

    reader = CachedCallStore(WrittenWhileReading(), redis, RedisNames.from_settings(settings), 60)
    stale = await reader.get_call(CALL)
    assert stale.claim == {}

    fresh = await writer.get_call(CALL)
    assert fresh.claim == {"email": "late@example.com"}
    assert writer.misses == 1  # the reader cached nothing


async def test_the_report_and_forget_drop_the_call_from_the_cache(
    cache: CachedCallStore, store: InMemoryStore
) -> None:
    await cache.get_call(CALL)
    await cache.save_synthesis(CALL, Synthesis(short="done"), NextAction(action="case_closed"), "")
    await cache.get_call(CALL)
    await cache.forget(CALL)
    await cache.get_call(CALL)
    assert store.read_call_ids == [CALL, CALL, CALL]


async def test_an_unreachable_redis_falls_back_to_the_store(
    store: InMemoryStore, settings: RedisSettings
) -> None:
    down = open_redis(settings.model_copy(update={"url": "redis://127.0.0.1:1/0"}))
    try:
        cache = CachedCallStore(store, down, RedisNames.from_settings(settings), 60)
        assert (await cache.get_call(CALL)).call_id == CALL
        assert await cache.update_claim(CALL, {"email": "a@example.com"}) == {
            "email": "a@example.com"
        }
    finally:
        await down.aclose()


async def test_a_brain_replica_taking_over_a_conversation_does_not_reload_it(
    store: InMemoryStore, redis: Redis, settings: RedisSettings
) -> None:
    async def serve(cache: CachedCallStore) -> tuple[GrpcService, grpc.aio.Channel]:
        service = GrpcService("brain", "127.0.0.1:0", ["switchboard.v1.Brain"])
        flags = FeatureFlags(Features())
        clock = VirtualClock(REFERENCE_NOW)
        servicer = BrainServicer(store, clock, flags, FormPolicy(), live_calls=cache)
        register(service.server, servicer)
        port = await service.start()
        return service, grpc.aio.insecure_channel(f"127.0.0.1:{port}")

    first_cache = replica(store, redis, settings)
    first, first_channel = await serve(first_cache)
    second_cache = replica(store, redis, settings)
    second, second_channel = await serve(second_cache)
    try:
        stream = brain_pb2_grpc.BrainStub(first_channel).Converse()
        await stream.write(start_pb(CALL))
        await read_turn(stream)
        await stream.write(user_turn_pb("t1", "It happened yesterday at noon"))
        await read_turn(stream)
        await first_cache.settled()  # the copy refetched after the words and the claim
        await first.stop(0)  # the first brain dies mid-call

        resumed = brain_pb2_grpc.BrainStub(second_channel).Converse()
        await resumed.write(start_pb(CALL, reconnect=True))
        await resumed.write(user_turn_pb("t2", "my email is a@example.com"))
        answer = await read_turn(resumed)
        await resumed.done_writing()

        # The second brain took the call from the cache, not the database.
        assert (second_cache.hits, second_cache.misses) >= (1, 0)
        assert second_cache.misses == 0
        assert answer[-1].turn_done.turn_id == "t2"
        assert store.calls[CALL].claim["email"] == "a@example.com"
        assert set(store.calls[CALL].claim) == {"incident_datetime", "email"}
        spoken = " ".join(r.sentence.text for r in answer if r.WhichOneof("event") == "sentence")
        assert "When did the incident happen?" not in spoken  # it knew what was asked already
    finally:
        await first_channel.close()
        await second_channel.close()
        await second.stop(0)


def start_pb(call_id: str, reconnect: bool = False) -> brain_pb2.ConverseRequest:
    return brain_pb2.ConverseRequest(
        start=brain_pb2.ConversationStart(call_id=call_id, reconnect=reconnect)
    )


def user_turn_pb(turn_id: str, text: str) -> brain_pb2.ConverseRequest:
    return brain_pb2.ConverseRequest(user_turn=brain_pb2.UserTurn(turn_id=turn_id, text=text))


async def read_turn(stream: Any) -> list[brain_pb2.ConverseResponse]:
    """Every response up to and including the turn's turn_done."""
    responses = []
    while True:
        response = await stream.read()
        assert response is not grpc.aio.EOF, "stream ended inside a turn"
        responses.append(response)
        if response.WhichOneof("event") == "turn_done":
            return responses


async def test_a_read_that_raced_a_write_never_stays_cached(
    cache: CachedCallStore, store: InMemoryStore
) -> None:
    """The read takes the version after the write's first bump and the store's copy from
    before its commit; once the write commits, that stale copy must be gone."""

    raced: list[Call] = []
    original = store.update_claim

    async def update_claim(call_id: str, updates: dict[str, str], *args: Any) -> dict[str, str]:
        raced.append(await cache.get_call(CALL))  # a miss, served before the commit
        return await original(call_id, updates, *args)

    store.update_claim = update_claim  # type: ignore[method-assign]

    await cache.update_claim(CALL, {"description": "a dent"})

    assert raced[0].claim == {}  # the racing reader saw the store before the commit
    assert (await cache.get_call(CALL)).claim == {"description": "a dent"}
