"""The SQLite store's one writer thread, with group commit.

SQLite takes one write transaction at a time, and with ``synchronous=FULL`` every
commit waits for an fsync of the WAL. One commit per write makes the writes of
many calls queue one fsync each: a slow fsync (1.5 s seen at 35 calls) then
delays every write queued behind it by the stall *plus* one fsync per write
ahead of it. So the writer commits in groups: it takes every write that is
queued when it becomes free (up to :data:`MAX_GROUP`), runs each inside its own
``SAVEPOINT`` of one ``BEGIN IMMEDIATE`` transaction (a write alone needs none) and
commits them with one fsync. A write that fails is rolled back to its savepoint
alone and gets its own error; the others still commit.

Durability is unchanged: a write's future is settled only after the ``COMMIT``
that contains it returned, so a write whose coroutine returned survives a crash.
A stalled fsync still holds every write queued behind it (one WAL, one disk),
but they all commit together when it ends, instead of one stall-length each.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import sqlite3
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

# Writes committed together at most: bounds how long one group holds the lock.
MAX_GROUP = 64


@dataclass(frozen=True)
class _Job:
    """One submitted piece of work and the future that gets its outcome."""

    work: Callable[[Any], Any]  # gets the connection (None for work run alone)
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop
    in_transaction: bool  # False: run alone, outside any transaction (open, close)


def _settle(future: asyncio.Future[Any], outcome: object, failed: bool) -> None:
    if future.cancelled():
        return
    if failed:
        assert isinstance(outcome, BaseException)
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


def _notify(job: _Job, outcome: object, failed: bool) -> None:
    try:
        job.loop.call_soon_threadsafe(_settle, job.future, outcome, failed)
    except RuntimeError:  # the loop that asked is closed: nobody waits any more
        log.debug("store write settled after its event loop closed")


class SqliteWriter:
    """Owns the write connection on a thread of its own; runs writes in committed groups."""

    def __init__(self, name: str = "store-writer", max_group: int = MAX_GROUP) -> None:
        self.conn: sqlite3.Connection | None = None
        self._name = name
        self.max_group = max_group  # 1: one commit per write (benchmarks compare)
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        # Groups and writes committed, for tests and benchmarks (written by the thread).
        self.groups = 0
        self.writes = 0

    def transaction(self, work: Callable[[sqlite3.Connection], T]) -> asyncio.Future[T]:
        """Runs ``work`` inside a committed transaction; the future settles after the commit."""
        return self._submit(work, in_transaction=True)

    def alone(self, work: Callable[[], T]) -> asyncio.Future[T]:
        """Runs ``work`` on the writer thread, outside any transaction and after every
        write submitted before it (opening and closing :attr:`conn`)."""
        return self._submit(lambda _conn: work(), in_transaction=False)

    def stop(self) -> None:
        """Ends the thread once the work queued before this call is done (blocking)."""
        thread = self._thread
        if thread is None:
            return
        self._jobs.put(None)
        thread.join()
        self._thread = None

    def _submit(
        self, work: Callable[[sqlite3.Connection], Any], in_transaction: bool
    ) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._start()
        self._jobs.put(_Job(work, future, loop, in_transaction))
        return future

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()

    def _run(self) -> None:
        backlog: deque[_Job | None] = deque()  # taken from the queue but not for this group
        while True:
            job = backlog.popleft() if backlog else self._jobs.get()
            if job is None:
                return
            if not job.in_transaction:
                self._run_alone(job)
                continue
            group = [job]
            while len(group) < self.max_group:
                try:
                    more = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if more is None or not more.in_transaction:
                    backlog.append(more)  # runs after this group, in the order submitted
                    break
                group.append(more)
            self._commit(group)

    def _run_alone(self, job: _Job) -> None:
        try:
            outcome, failed = job.work(None), False
        except BaseException as exc:
            outcome, failed = exc, True
        _notify(job, outcome, failed)

    def _commit(self, group: list[_Job]) -> None:
        """Runs the group's writes in one transaction and commits once; with more than one
        write, each runs in its own savepoint so that a failure rolls back that write alone."""
        outcomes: list[tuple[object, bool]] = []
        conn = self.conn
        savepoints = len(group) > 1
        try:
            if conn is None:
                raise RuntimeError("the store database is not open")
            for job in group:
                if not conn.in_transaction:
                    conn.execute("BEGIN IMMEDIATE")
                done = self._run_one(conn, job, savepoints)
                outcomes.append(done)
                if not conn.in_transaction:
                    # Rolled back whole (a lone write failed, or SQLite gave up the
                    # transaction, e.g. disk full): the writes before it are gone too.
                    outcomes = [o if o[1] else done for o in outcomes]
            if conn.in_transaction:
                conn.execute("COMMIT")
        except BaseException as exc:
            if conn is not None and conn.in_transaction:
                conn.execute("ROLLBACK")
            log.warning("store write group failed", extra={"writes": len(group)})
            failed: tuple[object, bool] = (exc, True)
            outcomes = [o if o[1] else failed for o in outcomes]
            outcomes += [failed] * (len(group) - len(outcomes))
        else:
            self.groups += 1
            self.writes += len(group)
        for job, (outcome, is_error) in zip(group, outcomes, strict=True):
            _notify(job, outcome, is_error)

    @staticmethod
    def _run_one(conn: sqlite3.Connection, job: _Job, savepoint: bool) -> tuple[object, bool]:
        if savepoint:
            conn.execute("SAVEPOINT write")
        try:
            result = job.work(conn)
        except BaseException as exc:
            if conn.in_transaction:
                if savepoint:
                    conn.execute("ROLLBACK TO write")
                    conn.execute("RELEASE write")
                else:
                    conn.execute("ROLLBACK")
            return exc, True
        if savepoint:
            conn.execute("RELEASE write")
        return result, False
