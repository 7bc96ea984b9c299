"""How often a peer's repeated misbehaviour is logged: a flood must not become a log flood."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

INTERVAL_SEC = 10.0
MAX_KEYS = 1024


class LogBudget:
    """Logs an event the first time per key, then at most once per ``interval_sec``.

    :meth:`spend` says whether to log now and how many events of that key went unlogged
    since. At most ``max_keys`` keys are remembered (the oldest is forgotten), so a
    flood from many addresses costs bounded memory.
    """

    def __init__(
        self,
        interval_sec: float = INTERVAL_SEC,
        max_keys: int = MAX_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._interval = interval_sec
        self._max_keys = max_keys
        self._clock = clock
        self._keys: OrderedDict[str, tuple[float, int]] = OrderedDict()  # last logged, unlogged

    def spend(self, key: str) -> int | None:
        """``None``: do not log this one. Else log it, with this many left unlogged before."""
        now = self._clock()
        last = self._keys.get(key)
        if last is not None and now - last[0] < self._interval:
            self._keys[key] = (last[0], last[1] + 1)
            return None
        self._keys[key] = (now, 0)
        self._keys.move_to_end(key)
        while len(self._keys) > self._max_keys:
            self._keys.popitem(last=False)
        return last[1] if last is not None else 0
