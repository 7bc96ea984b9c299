"""A read-through cache of live calls in Redis, in front of the store (``redis.enabled``).

A brain replica that picks up a call mid-way (the one that had it died, the dialer
reconnected here) finds the call's history, claim, reminders and policy state in Redis
instead of rebuilding it from the database. Writes go to the store first, as always;
the cached copy is taken out of Redis *before* the write (so a brain dying between the
store write and the cache update leaves no stale copy behind) and put back with the
write's result applied, unless another write to the call came in between (a version
counter per call decides). Entries expire ``redis.call_cache_ttl_sec`` after the last
write and are dropped when the call's stream ends normally. Only the conversation uses
it: post-call work and reports read the store, where every writer's changes are.
Redis trouble never fails a turn: the cache is skipped and the store answers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from redis.asyncio import Redis
from redis.exceptions import RedisError, WatchError

from switchboard.domain import Call, Message, NextAction, Reminder, Synthesis
from switchboard.redis_link import RedisNames
from switchboard_brain.store import CallStore

log = logging.getLogger(__name__)

T = TypeVar("T")


class CachedCallStore:
    """A :class:`CallStore` that keeps each live call's state in Redis as well."""

    def __init__(self, store: CallStore, redis: Redis, names: RedisNames, ttl_sec: float) -> None:
        self._store = store
        self._redis = redis
        self._names = names
        self._ttl = max(int(ttl_sec), 1)
        self.hits = 0
        self.misses = 0
        self._refetches: set[asyncio.Task[None]] = set()

    async def get_call(self, call_id: str) -> Call:
        key = self._names.live_call(call_id)
        try:
            cached, version = await self._redis.mget(key, _version_key(key))
        except RedisError as exc:
            _skipped("read", call_id, exc)
            return await self._store.get_call(call_id)
        if cached is not None:
            self.hits += 1
            return Call.model_validate_json(cached)
        self.misses += 1
        call = await self._store.get_call(call_id)
        await self._put_unless_written(call, int(version or 0))
        return call

    async def forget(self, call_id: str) -> None:
        """Drops the cached copy (the call's stream ended)."""
        try:
            await self._redis.delete(self._names.live_call(call_id))
        except RedisError as exc:
            _skipped("forget", call_id, exc)

    async def append_messages(
        self, call_id: str, messages: list[Message], policy_state: str | None = None
    ) -> list[Message]:
        def apply(call: Call, stored: list[Message]) -> None:
            by_seq = {m.seq: m for m in call.messages}
            by_seq.update({m.seq: m for m in stored})
            call.messages = [by_seq[seq] for seq in sorted(by_seq)]
            if policy_state is not None:
                call.policy_state = policy_state

        return await self._write_through(
            call_id, lambda: self._store.append_messages(call_id, messages, policy_state), apply
        )

    async def update_claim(
        self, call_id: str, updates: dict[str, str], messages: Sequence[Message] = ()
    ) -> dict[str, str]:
        def apply(call: Call, claim: dict[str, str]) -> None:
            call.claim = dict(claim)

        write = lambda: self._store.update_claim(call_id, updates, messages)  # noqa: E731
        # The store does not return the messages as stored (their sequence numbers): the
        # cached copy is refetched after the write, off the turn's path.
        return await self._write_through(call_id, write, None if messages else apply)

    async def upsert_reminder(self, call_id: str, reminder: Reminder) -> Reminder:
        def apply(call: Call, stored: Reminder) -> None:
            call.reminders = [r for r in call.reminders if r.title != stored.title] + [stored]

        return await self._write_through(
            call_id, lambda: self._store.upsert_reminder(call_id, reminder), apply
        )

    async def set_call_language(self, call_id: str, lang: str) -> Call:
        def apply(call: Call, stored: Call) -> None:
            call.lang = stored.lang

        return await self._write_through(
            call_id, lambda: self._store.set_call_language(call_id, lang), apply
        )

    async def save_synthesis(
        self,
        call_id: str,
        synthesis: Synthesis,
        next_action: NextAction,
        sms_summary: str,
        job_id: str = "",
    ) -> Call:
        saved = await self._store.save_synthesis(
            call_id, synthesis, next_action, sms_summary, job_id=job_id
        )
        await self.forget(call_id)  # the call is over
        return saved

    async def _write_through(
        self,
        call_id: str,
        write: Callable[[], Awaitable[T]],
        apply: Callable[[Call, T], None] | None,
    ) -> T:
        """Runs ``write`` with the cached copy taken out; puts it back with ``apply``d to
        the result (None: refetches it from the store in the background)."""
        key = self._names.live_call(call_id)
        taken: tuple[Call | None, int] | None = None
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.get(key).delete(key).incr(_version_key(key)).expire(
                    _version_key(key), self._ttl
                )
                cached, _, version, _ = await pipe.execute()
            taken = (Call.model_validate_json(cached) if cached else None, int(version))
        except RedisError as exc:
            _skipped("invalidate", call_id, exc)
        result = await write()
        # Once more after the commit: a read that raced the write (its version read after
        # the first bump, its store read before the commit) must not stay cached.
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.delete(key).incr(_version_key(key)).expire(_version_key(key), self._ttl)
                _, after, _ = await pipe.execute()
        except RedisError as exc:
            _skipped("invalidate", call_id, exc)
            return result
        if taken is not None:
            call, version = taken
            alone = int(after) == version + 1  # nobody else wrote since the copy was taken
            if call is not None and apply is not None and alone:
                apply(call, result)
                await self._put_unless_written(call, int(after))
            elif call is not None:
                task = asyncio.create_task(self._refetch(call_id))
                self._refetches.add(task)
                task.add_done_callback(self._refetches.discard)
        return result

    async def _refetch(self, call_id: str) -> None:
        """Caches the call as stored now, unless it is written meanwhile."""
        key = self._names.live_call(call_id)
        try:
            version = int(await self._redis.get(_version_key(key)) or 0)
            call = await self._store.get_call(call_id)
        except Exception as exc:  # the next read goes to the store instead
            fields = {"call_id": call_id, "error": type(exc).__name__}
            log.warning("live call not refetched", extra=fields)
            return
        await self._put_unless_written(call, version)

    async def settled(self) -> None:
        """Waits for the background refetches (tests, shutdown)."""
        while self._refetches:
            await asyncio.gather(*self._refetches, return_exceptions=True)

    async def _put_unless_written(self, call: Call, version: int) -> None:
        """Caches ``call`` unless the call was written after ``version`` was read."""
        key = self._names.live_call(call.call_id)
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                await pipe.watch(_version_key(key))
                if int(await pipe.get(_version_key(key)) or 0) != version:
                    return
                pipe.multi()
                pipe.set(key, call.model_dump_json(), ex=self._ttl)
                await pipe.execute()
        except WatchError:
            return  # written meanwhile: the next read loads it from the store
        except RedisError as exc:
            _skipped("fill", call.call_id, exc)


def _version_key(key: str) -> str:
    return f"{key}:version"


def _skipped(what: str, call_id: str, exc: RedisError) -> None:
    log.warning(
        "live-call cache skipped", extra={"op": what, "call_id": call_id, "error": str(exc)}
    )
