"""The job queue on Redis streams: consumer groups, visibility timeout, dead letters.

Each job kind has a stream read by one consumer group. A job's state lives in its hash
(:mod:`~switchboard_store.redis_job_records`); a stream entry only says "this job, this
delivery". ``claim`` first takes over entries idle past ``visibility_timeout_sec``
(``XAUTOCLAIM``: their worker died), then reads new ones (``XREADGROUP >``);
``complete`` is ``XACK`` after the work is committed; ``fail`` acknowledges the entry and
parks the job in a sorted set until its back-off is over, or, on the last allowed
delivery, appends it to the dead-letter stream. ``replay`` puts a dead job back.

Every change of a job's hash is a ``WATCH``/``MULTI`` transaction checked by the same
:mod:`~switchboard_store.job_rules` as the database queues, so two store replicas never
hand out one job twice and a lost lease is refused the same way.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any, TypeVar

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import ResponseError, WatchError

from switchboard.clock import Clock, SystemClock
from switchboard.errors import NotFound
from switchboard.jobs import Job, JobState
from switchboard.redis_link import RedisNames
from switchboard_store import job_rules
from switchboard_store.job_queue import MAX_ERROR_CHARS, JobQueue, RetryPolicy
from switchboard_store.redis_job_records import job_from_record, lease_held, new_record, stamp
from switchboard_store.validation import list_limit

log = logging.getLogger(__name__)

T = TypeVar("T")

# Due jobs moved from the back-off set to their stream per claim.
PROMOTE_BATCH = 20
# The dead-letter stream keeps about this many entries.
DEAD_LETTER_MAXLEN = 10_000
INDEX_PAGE = 200


class RedisJobQueue(JobQueue):
    """Durable jobs in Redis; ``policy.max_attempts`` is the deliveries before dead letter."""

    def __init__(
        self,
        redis: Redis,
        names: RedisNames,
        visibility_timeout_sec: float,
        policy: RetryPolicy | None = None,
        done_ttl_sec: float = 7 * 24 * 3600,
        clock: Clock | None = None,
    ) -> None:
        self._redis = redis
        self._names = names
        self._visibility_ms = max(int(visibility_timeout_sec * 1000), 1)
        self.policy = policy or RetryPolicy()
        self._done_ttl = max(int(done_ttl_sec), 1)
        self._clock: Clock = clock or SystemClock()
        self._groups: set[str] = set()

    # The producer side: the outbox relay.

    async def ping(self) -> None:
        """Raises ``RedisError`` when Redis cannot be reached."""
        await self._redis.ping()

    async def enqueue(self, job_id: str, kind: str, call_id: str, traceparent: str = "") -> bool:
        """Queues a job once per job id: False when it is (or was recently) queued already."""
        key = self._names.job(job_id)
        stream = await self._stream(kind)

        async def queue(pipe: Pipeline) -> bool:
            if await pipe.exists(key):
                return False
            delivery = uuid.uuid4().hex
            now = self._clock.now()
            pipe.multi()
            pipe.hset(key, mapping=new_record(job_id, kind, call_id, traceparent, now, delivery))
            pipe.zadd(self._names.job_index, {job_id: now.timestamp()})
            pipe.xadd(stream, {"job_id": job_id, "delivery": delivery})
            await pipe.execute()
            return True

        queued = await self._transact([key], queue)
        if queued:
            log.info("job queued on stream", extra={"job_id": job_id, "call_id": call_id})
        return queued

    # The worker side: the JobQueue contract.

    async def claim(self, worker: str, kinds: Sequence[str], lease_sec: float) -> Job | None:
        job_rules.check_claim(worker, kinds, lease_sec)
        await self._promote_due()
        for kind in kinds:
            stream = await self._stream(kind)
            _, entries, *_ = await self._redis.xautoclaim(
                stream, self._names.consumer_group, worker, self._visibility_ms, "0-0", count=1
            )
            found = await self._take_first(stream, entries, worker, lease_sec)
            if found is not None:
                return found
            read = await self._redis.xreadgroup(
                self._names.consumer_group, worker, {stream: ">"}, count=1
            )
            for _, fresh in read or []:
                found = await self._take_first(stream, fresh, worker, lease_sec)
                if found is not None:
                    return found
        return None

    async def complete(self, job_id: str, lease_token: str) -> Job:
        key = self._names.job(job_id)

        async def finish(pipe: Pipeline) -> Job:
            job, record = await self._read(pipe, job_id)
            if job_rules.completed_with(job, lease_token):
                return job
            job_rules.check_lease(job, lease_token)
            pipe.multi()
            pipe.hset(
                key,
                mapping={
                    "state": JobState.DONE.value,
                    "leased_until": "",
                    "last_error": "",
                    "updated_at": stamp(self._clock.now()),
                },
            )
            pipe.expire(key, self._done_ttl)
            self._ack(pipe, record)
            await pipe.execute()
            job_rules.log_done(job)
            return await self._job(job_id)

        return await self._transact([key], finish)

    async def fail(self, job_id: str, lease_token: str, error: str) -> Job:
        key = self._names.job(job_id)
        reason = error[:MAX_ERROR_CHARS]

        async def give_back(pipe: Pipeline) -> Job:
            job, record = await self._read(pipe, job_id)
            job_rules.check_lease(job, lease_token)
            pipe.multi()
            if job.attempts >= self.policy.max_attempts:
                self._bury(pipe, job, record, reason)
            else:
                delay = self.policy.delay_sec(job.attempts)
                due = self._clock.now() + timedelta(seconds=delay)
                delivery = uuid.uuid4().hex
                pipe.hset(
                    key,
                    mapping={
                        "state": JobState.PENDING.value,
                        "available_at": stamp(due),
                        "lease_token": "",
                        "leased_until": "",
                        "last_error": reason,
                        "delivery": delivery,
                        "updated_at": stamp(self._clock.now()),
                    },
                )
                pipe.zadd(self._names.delayed, {_parked(job.kind, job_id): due.timestamp()})
                self._ack(pipe, record)
            await pipe.execute()
            if job.attempts >= self.policy.max_attempts:
                job_rules.log_dead(job)
            else:
                job_rules.log_retry(job, self.policy.delay_sec(job.attempts))
            return await self._job(job_id)

        return await self._transact([key], give_back)

    async def list_jobs(self, state: JobState | None = None, limit: int = 100) -> list[Job]:
        size = list_limit(limit)
        if state is JobState.DEAD:
            return (await self._dead_letters())[:size]
        found: list[Job] = []
        start = 0
        while len(found) < size:
            ids = await self._redis.zrange(self._names.job_index, start, start + INDEX_PAGE - 1)
            if not ids:
                break
            start += len(ids)
            async with self._redis.pipeline(transaction=False) as pipe:
                for job_id in ids:
                    pipe.hgetall(self._names.job(job_id))
                records = await pipe.execute()
            gone = [job_id for job_id, record in zip(ids, records, strict=True) if not record]
            if gone:  # expired after completion
                await self._redis.zrem(self._names.job_index, *gone)
                start -= len(gone)
            for record in records:
                if record and (state is None or record.get("state") == state.value):
                    found.append(job_from_record(record))
        return found[:size]

    async def replay(self, job_id: str) -> Job:
        """Puts a dead job back on its stream with its tries counted from zero."""
        key = self._names.job(job_id)

        async def revive(pipe: Pipeline) -> Job:
            job, _ = await self._read(pipe, job_id)
            job_rules.check_replay(job)
            stream = await self._stream(job.kind)
            delivery = uuid.uuid4().hex
            pipe.multi()
            pipe.hset(
                key,
                mapping={
                    "state": JobState.PENDING.value,
                    "attempts": 0,
                    "available_at": stamp(self._clock.now()),
                    "delivery": delivery,
                    "updated_at": stamp(self._clock.now()),
                },
            )
            pipe.xadd(stream, {"job_id": job_id, "delivery": delivery})
            await pipe.execute()
            job_rules.log_replayed(job)
            return await self._job(job_id)

        replayed = await self._transact([key], revive)
        await self._drop_dead_letters(job_id)
        return replayed

    # Internals.

    async def _stream(self, kind: str) -> str:
        """The kind's stream, with its consumer group created on first use."""
        stream = self._names.stream(kind)
        if stream not in self._groups:
            try:
                await self._redis.xgroup_create(
                    stream, self._names.consumer_group, id="0", mkstream=True
                )
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise
            self._groups.add(stream)
        return stream

    async def _transact(self, keys: list[str], work: Callable[[Pipeline], Awaitable[T]]) -> T:
        """Runs ``work`` with ``keys`` watched, again whenever another client changed them."""
        while True:
            async with self._redis.pipeline(transaction=True) as pipe:
                try:
                    await pipe.watch(*keys)
                    return await work(pipe)
                except WatchError:
                    continue

    async def _read(self, pipe: Pipeline, job_id: str) -> tuple[Job, dict[str, str]]:
        record: dict[str, str] = await pipe.hgetall(self._names.job(job_id))
        if not record:
            raise NotFound(f"no job with job_id {job_id}")
        return job_from_record(record), record

    async def _job(self, job_id: str) -> Job:
        record: dict[str, str] = await self._redis.hgetall(self._names.job(job_id))
        if not record:
            raise NotFound(f"no job with job_id {job_id}")
        return job_from_record(record)

    def _ack(self, pipe: Pipeline, record: dict[str, str]) -> None:
        entry = record.get("entry", "")
        if entry:
            pipe.xack(self._names.stream(record["kind"]), self._names.consumer_group, entry)
            pipe.hset(self._names.job(record["job_id"]), "entry", "")

    def _bury(self, pipe: Pipeline, job: Job, record: dict[str, str], error: str) -> None:
        pipe.hset(
            self._names.job(job.job_id),
            mapping={
                "state": JobState.DEAD.value,
                "lease_token": "",
                "leased_until": "",
                "last_error": error,
                "updated_at": stamp(self._clock.now()),
            },
        )
        pipe.xadd(
            self._names.dead_letters,
            {
                "job_id": job.job_id,
                "kind": job.kind,
                "call_id": job.call_id,
                "attempts": job.attempts,
            },
            maxlen=DEAD_LETTER_MAXLEN,
            approximate=True,
        )
        self._ack(pipe, record)

    async def _take_first(
        self, stream: str, entries: list[Any], worker: str, lease_sec: float
    ) -> Job | None:
        for entry_id, fields in entries:
            job = await self._take(stream, entry_id, fields or {}, worker, lease_sec)
            if job is not None:
                return job
        return None

    async def _take(
        self, stream: str, entry_id: str, fields: dict[str, str], worker: str, lease_sec: float
    ) -> Job | None:
        """Leases the entry's job to ``worker``; None (the entry acknowledged when it is
        stale) when it is no longer deliverable."""
        job_id = fields.get("job_id", "")
        key = self._names.job(job_id)

        async def lease(pipe: Pipeline) -> Job | None:
            record: dict[str, str] = await pipe.hgetall(key)
            stale = (
                not record
                or record.get("delivery") != fields.get("delivery")
                or record.get("state") in (JobState.DONE.value, JobState.DEAD.value)
            )
            now = self._clock.now()
            if stale:
                pipe.multi()
                pipe.xack(stream, self._names.consumer_group, entry_id)
                await pipe.execute()
                return None
            if lease_held(record, now):
                return None  # its worker is slow, not dead: left for a later take-over
            job = job_from_record(record)
            pipe.multi()
            if job_rules.died_on_last_try(job, self.policy):
                self._bury(pipe, job, {**record, "entry": entry_id}, "lease expired on last try")
                await pipe.execute()
                job_rules.log_dead(job)
                return None
            pipe.hset(
                key,
                mapping={
                    "state": JobState.RUNNING.value,
                    "attempts": job.attempts + 1,
                    "lease_token": uuid.uuid4().hex,
                    "leased_by": worker,
                    "leased_until": stamp(now + timedelta(seconds=lease_sec)),
                    "entry": entry_id,
                    "updated_at": stamp(now),
                },
            )
            await pipe.execute()
            claimed = await self._job(job_id)
            job_rules.log_claimed(job, claimed, worker)
            return claimed

        if not job_id:
            await self._redis.xack(stream, self._names.consumer_group, entry_id)
            return None
        return await self._transact([key], lease)

    async def _promote_due(self) -> None:
        """Moves jobs whose back-off is over from the parked set to their streams."""
        parked = self._names.delayed
        now = self._clock.now().timestamp()
        due = await self._redis.zrangebyscore(parked, "-inf", now, start=0, num=PROMOTE_BATCH)
        for member in due:
            kind, _, job_id = member.partition("|")
            stream = await self._stream(kind)

            async def promote(
                pipe: Pipeline, member: str = member, job_id: str = job_id, stream: str = stream
            ) -> None:
                if await pipe.zscore(parked, member) is None:
                    return  # another replica moved it
                delivery = await pipe.hget(self._names.job(job_id), "delivery")
                pipe.multi()
                pipe.zrem(parked, member)
                if delivery:
                    pipe.xadd(stream, {"job_id": job_id, "delivery": delivery})
                await pipe.execute()

            await self._transact([parked, self._names.job(job_id)], promote)

    async def _dead_letters(self) -> list[Job]:
        """The jobs in the dead-letter stream that are still dead, oldest first, once each."""
        seen: dict[str, Job] = {}
        for _, fields in await self._redis.xrange(self._names.dead_letters):
            job_id = fields.get("job_id", "")
            if job_id and job_id not in seen:
                record = await self._redis.hgetall(self._names.job(job_id))
                if record and record.get("state") == JobState.DEAD.value:
                    seen[job_id] = job_from_record(record)
        return list(seen.values())

    async def _drop_dead_letters(self, job_id: str) -> None:
        entries = await self._redis.xrange(self._names.dead_letters)
        ids = [entry_id for entry_id, fields in entries if fields.get("job_id") == job_id]
        if ids:
            await self._redis.xdel(self._names.dead_letters, *ids)


def _parked(kind: str, job_id: str) -> str:
    return f"{kind}|{job_id}"
