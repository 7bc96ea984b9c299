"""``KeypadEntry``: the caller's touch tones collected into one input.

A caller typing a phone number or a policy number presses one key at a time; each
key becoming a turn of its own would make the bot answer every digit. The dialer
sees the keys' timing, so it collects them here and hands the brain one keypad
turn when the entry is complete:

- ``#`` ends the entry (it is not part of it); a lone ``#`` is dropped;
- a pause of ``features.dtmf_timeout_ms`` (live flag) after the last key ends it;
- the expected number of digits ends it at once, when the bot said how many it
  expects (:meth:`KeypadEntry.expect_digits`, e.g. a national phone number);
- ``*`` clears what was typed so far (the caller starts over);
- :data:`switchboard.dtmf.MAX_DIGITS` keys end it too, so an entry is never unbounded.

Waits go through the call's clock, so tests type on virtual time.
"""

from __future__ import annotations

from collections.abc import Callable

from switchboard.clock import Clock
from switchboard.dtmf import MAX_DIGITS
from switchboard.features import FeatureFlags
from switchboard.tasks import Timer

END_KEY = "#"
CLEAR_KEY = "*"


class KeypadEntry:
    """Collects one call's touch tones; ``on_entry(digits)`` gets each complete entry."""

    def __init__(
        self, call_id: str, on_entry: Callable[[str], None], flags: FeatureFlags, clock: Clock
    ) -> None:
        self._on_entry = on_entry
        self._flags = flags
        self._keys: list[str] = []
        self._expected: int | None = None
        self._pause = Timer(f"call-{call_id}-keypad", self.submit, clock)

    @property
    def typed(self) -> str:
        """The keys of the entry in progress."""
        return "".join(self._keys)

    def expect_digits(self, count: int | None) -> None:
        """The next entry is complete after ``count`` keys (None: only ``#`` or a pause)."""
        self._expected = count if count and count > 0 else None

    def press(self, keys: str) -> None:
        """Keys from the line, in order (a carrier may deliver several at once)."""
        for key in keys:
            if key == END_KEY:
                self.submit()
            elif key == CLEAR_KEY:
                self._keys.clear()
                self._pause.disarm()
            else:
                self._keys.append(key)
                if len(self._keys) in (self._expected, MAX_DIGITS):
                    self.submit()
                else:
                    self._pause.arm(self._flags.current.dtmf_timeout_ms / 1000)

    def submit(self) -> None:
        """Ends the entry in progress now (``#``, the pause, a hang-up); nothing typed: nothing."""
        self._pause.disarm()
        if not self._keys:
            return
        digits = self.typed
        self._keys.clear()
        self._on_entry(digits)

    async def close(self) -> None:
        await self._pause.close()
