"""The SQLite writer's group commit: writes queued together commit together, each keeps
its own outcome, and none returns before the commit that holds it."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from switchboard_store.sqlite_db import SqliteDatabase

HOLD_SEC = 10.0


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[SqliteDatabase]:
    database = SqliteDatabase(tmp_path / "w.db")
    await database.open()
    await database.write(lambda c: c.execute("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER)"))
    try:
        yield database
    finally:
        await database.close()


def insert(key: str, value: int = 0) -> Callable[[sqlite3.Connection], str]:
    def work(conn: sqlite3.Connection) -> str:
        conn.execute("INSERT INTO t (k, v) VALUES (?, ?)", (key, value))
        return key

    return work


def held(started: threading.Event, release: threading.Event) -> Callable[[sqlite3.Connection], str]:
    """A write that stays on the writer until ``release`` is set: a stalled disk write."""

    def work(conn: sqlite3.Connection) -> str:
        conn.execute("INSERT INTO t (k, v) VALUES ('held', 0)")
        started.set()
        release.wait(HOLD_SEC)
        return "held"

    return work


def committed(path: Path) -> set[str]:
    """The keys another connection sees: only what was committed."""
    conn = sqlite3.connect(path)
    try:
        return {r[0] for r in conn.execute("SELECT k FROM t")}
    finally:
        conn.close()


async def test_writes_queued_behind_a_held_write_commit_together_after_it(
    db: SqliteDatabase,
) -> None:
    started, release = threading.Event(), threading.Event()
    first = db.write(held(started, release))
    await asyncio.to_thread(started.wait, HOLD_SEC)
    groups_before = db.writer.groups
    queued = [db.write(insert(f"k{i}")) for i in range(10)]
    await asyncio.sleep(0.05)

    assert not any(f.done() for f in [first, *queued])  # nothing returns before its commit
    assert committed(db.path) == set()

    release.set()
    assert await asyncio.gather(first, *queued) == ["held", *(f"k{i}" for i in range(10))]
    assert committed(db.path) == {"held", *(f"k{i}" for i in range(10))}
    # The held write's own group, then one group for the ten queued behind it.
    assert db.writer.groups - groups_before == 2


async def test_a_failing_write_rolls_back_alone_and_the_rest_of_its_group_commits(
    db: SqliteDatabase,
) -> None:
    started, release = threading.Event(), threading.Event()
    first = db.write(held(started, release))
    await asyncio.to_thread(started.wait, HOLD_SEC)

    def half_then_fail(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO t (k, v) VALUES ('half', 0)")
        conn.execute("INSERT INTO t (k, v) VALUES ('a', 1)")  # duplicate key: fails

    before = db.write(insert("a"))
    failing = db.write(half_then_fail)
    after = db.write(insert("b"))
    release.set()

    outcomes = await asyncio.gather(first, before, failing, after, return_exceptions=True)
    assert outcomes[0] == "held"
    assert outcomes[1] == "a"
    assert isinstance(outcomes[2], sqlite3.IntegrityError)
    assert outcomes[3] == "b"
    assert committed(db.path) == {"held", "a", "b"}  # not 'half': its write rolled back whole


async def test_close_commits_the_writes_already_queued(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "c.db")
    await db.open()
    await db.write(lambda c: c.execute("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER)"))
    pending = [db.write(insert(f"k{i}")) for i in range(5)]

    await db.close()

    assert [f.result() for f in pending] == [f"k{i}" for i in range(5)]
    assert committed(db.path) == {f"k{i}" for i in range(5)}


async def test_a_write_after_close_is_refused(db: SqliteDatabase) -> None:
    await db.close()
    with pytest.raises(RuntimeError, match="closed"):
        db.write(insert("late"))
