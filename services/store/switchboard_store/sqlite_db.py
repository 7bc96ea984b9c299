"""One SQLite file used from asyncio: a single writer thread and a few reader threads.

Why threads this way: sqlite3 calls block, so they must run off the event loop. SQLite
allows one writer at a time anyway, so all writes go to one dedicated thread that owns
the only write connection (:class:`~switchboard_store.sqlite_writer.SqliteWriter`):
writes are serialised in order without a Python lock, never meet ``SQLITE_BUSY``, and
the writes queued while one commits are committed together (group commit). In WAL
mode readers do not block the writer nor each other, so reads run on a small pool of
threads, each with its own read-only connection, and a slow report page never delays
a claim update.

Durability: WAL with ``synchronous=FULL`` fsyncs the log on every commit, and a write
returns only after the commit that holds it, so a write whose coroutine returned
survives a crash or power loss.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from switchboard.private_files import PRIVATE_DIR_MODE, make_private
from switchboard_store.migration_files import packaged_migrations
from switchboard_store.sqlite_writer import SqliteWriter

log = logging.getLogger(__name__)

T = TypeVar("T")

READER_THREADS = 3
BUSY_TIMEOUT_MS = 10_000


def migrations() -> list[tuple[int, str, str]]:
    """``(version, file name, sql)`` of every packaged SQLite migration, in order."""
    return packaged_migrations("switchboard_store.migrations")


def apply_migrations(conn: sqlite3.Connection, upto: int | None = None) -> list[int]:
    """Applies the migrations newer than the database (up to version ``upto`` when given),
    each in its own transaction.

    Returns the versions applied (empty when the schema was current).
    """
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_version ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    current = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0]
    applied = []
    for version, name, sql in migrations():
        if version <= current:
            continue
        if upto is not None and version > upto:
            break
        # executescript() commits any open transaction first, so the transaction is part
        # of the script: the schema change and its version row commit together or not at all.
        stamp = datetime.now(UTC).isoformat()
        script = (
            f"BEGIN IMMEDIATE;\n{sql}\n;"
            f"INSERT INTO schema_version (version, name, applied_at) "
            f"VALUES ({version}, '{name}', '{stamp}');\nCOMMIT;"
        )
        try:
            conn.executescript(script)
        except sqlite3.Error:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        log.info("schema migrated", extra={"version": version, "migration": name})
        applied.append(version)
    return applied


def _connect(path: Path, read_only: bool) -> sqlite3.Connection:
    # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE / COMMIT) below.
    # check_same_thread=False only so close() can close every connection at shutdown;
    # each connection is otherwise used by exactly one thread.
    conn = sqlite3.connect(
        path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000
    )
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA synchronous = FULL")
    if read_only:
        conn.execute("PRAGMA query_only = ON")
    return conn


class SqliteDatabase:
    """The write connection on its own thread, read connections on a small pool."""

    def __init__(self, path: Path, readers: int = READER_THREADS) -> None:
        self.path = path
        self.writer = SqliteWriter()
        self._readers = ThreadPoolExecutor(max_workers=readers, thread_name_prefix="store-reader")
        self._local = threading.local()
        self._read_conns: list[sqlite3.Connection] = []
        self._read_conns_lock = threading.Lock()
        self._closed = False

    async def open(self) -> list[int]:
        """Creates the file if needed, switches to WAL, migrates; returns the versions applied."""
        # Created 0700 when missing; an existing directory may be shared, so it is left.
        self.path.parent.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
        applied = await self.writer.alone(self._open_writer)
        # Calls hold personal data: the files are the owner's alone, even ones an
        # earlier run created under a laxer umask.
        make_private(*(self.path.with_name(self.path.name + s) for s in ("", "-wal", "-shm")))
        return applied

    def _open_writer(self) -> list[int]:
        conn = _connect(self.path, read_only=False)
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            conn.close()
            raise RuntimeError(f"SQLite refused WAL mode (got {mode!r}); is the disk local?")
        self.writer.conn = conn
        return apply_migrations(conn)

    def write(self, work: Callable[[sqlite3.Connection], T]) -> asyncio.Future[T]:
        """Runs ``work`` in a ``BEGIN IMMEDIATE`` transaction on the writer thread (its own
        savepoint; other writes may share the transaction and its commit); the future
        settles once that transaction committed.

        Returns the future itself (not a coroutine) so the caller can attach a callback
        that runs even if the awaiting task is cancelled while the commit is under way.
        """
        self._check_open()
        return self.writer.transaction(work)

    async def read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Runs ``work`` on a reader thread inside one transaction: a consistent snapshot."""
        self._check_open()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, functools.partial(self._run_read, work))

    def _run_read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = _connect(self.path, read_only=True)
            self._local.conn = conn
            with self._read_conns_lock:
                self._read_conns.append(conn)
        conn.execute("BEGIN")
        try:
            return work(conn)
        finally:
            conn.execute("COMMIT")

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("the store database is closed")

    async def close(self) -> None:
        """Waits for queued work, then closes every connection. Idempotent."""
        if self._closed:
            return
        self._closed = True
        await asyncio.to_thread(self._close_readers)
        await self.writer.alone(self._close_writer)
        await asyncio.to_thread(self.writer.stop)

    def _close_readers(self) -> None:
        self._readers.shutdown(wait=True)
        with self._read_conns_lock:
            for conn in self._read_conns:
                conn.close()
            self._read_conns.clear()

    def _close_writer(self) -> None:
        conn = self.writer.conn
        if conn is not None:
            # A checkpoint folds the WAL into the main file so a copied .db is complete.
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.close()
            self.writer.conn = None
