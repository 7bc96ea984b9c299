"""A bounded outgoing queue that can also end or fail at once, whatever it holds."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class Outbox(Generic[T]):
    """Producers ``put`` (waiting while full); the stream's sender ``get``s.

    ``fail`` wins over queued items: the sender raises the error on its next
    ``get``. ``close`` lets the sender drain what is queued, then ``get`` returns None.
    """

    def __init__(self, maxsize: int) -> None:
        self._items: deque[T] = deque()
        self._max = maxsize
        self._cond = asyncio.Condition()
        self._closed = False
        self._error: BaseException | None = None

    def __len__(self) -> int:
        return len(self._items)

    async def put(self, item: T) -> None:
        async with self._cond:
            await self._cond.wait_for(
                lambda: len(self._items) < self._max or self._closed or self._error is not None
            )
            if self._closed or self._error is not None:
                return  # the stream is ending; nobody will read it
            self._items.append(item)
            self._cond.notify_all()

    async def get(self) -> T | None:
        async with self._cond:
            await self._cond.wait_for(
                lambda: bool(self._items) or self._closed or self._error is not None
            )
            if self._error is not None:
                raise self._error
            if self._items:
                item = self._items.popleft()
                self._cond.notify_all()
                return item
            return None

    async def close(self) -> None:
        async with self._cond:
            self._closed = True
            self._cond.notify_all()

    async def fail(self, error: BaseException) -> None:
        async with self._cond:
            self._error = error
            self._cond.notify_all()
