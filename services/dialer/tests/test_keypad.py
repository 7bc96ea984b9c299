"""Touch tones collected into one keypad entry, on virtual time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from switchboard.config import Features
from switchboard.dtmf import MAX_DIGITS
from switchboard.features import FeatureFlags
from switchboard_dialer.keypad import KeypadEntry
from switchboard_testing.clock import VirtualClock


@dataclass
class Keypad:
    entry: KeypadEntry
    clock: VirtualClock
    flags: FeatureFlags
    entries: list[str] = field(default_factory=list)


@pytest.fixture
async def keypad() -> AsyncIterator[Keypad]:
    clock = VirtualClock()
    flags = FeatureFlags(Features(dtmf_timeout_ms=2000))
    entries: list[str] = []
    entry = KeypadEntry("c1", entries.append, flags, clock)
    yield Keypad(entry, clock, flags, entries)
    await entry.close()


async def test_keys_pressed_one_by_one_become_one_entry_ended_by_hash(keypad: Keypad) -> None:
    for key in "0612345678":
        keypad.entry.press(key)
        await keypad.clock.elapse(0.5)
    assert keypad.entries == []

    keypad.entry.press("#")

    assert keypad.entries == ["0612345678"]  # the hash ends the entry, it is not part of it


async def test_a_pause_ends_the_entry_only_after_the_timeout_since_the_last_key(
    keypad: Keypad,
) -> None:
    keypad.entry.press("4")
    await keypad.clock.elapse(1.9)
    keypad.entry.press("2")
    await keypad.clock.elapse(1.9)
    assert keypad.entries == []  # 3.8 s since the first key, 1.9 s since the last

    await keypad.clock.elapse(0.1)

    assert keypad.entries == ["42"]


async def test_the_pause_follows_the_live_flag(tmp_path: Path) -> None:
    config = tmp_path / "switchboard.yaml"
    config.write_text("features:\n  dtmf_timeout_ms: 500\n")
    clock, entries = VirtualClock(), list[str]()
    flags = FeatureFlags(Features(dtmf_timeout_ms=2000), path=config)
    keypad = Keypad(KeypadEntry("c1", entries.append, flags, clock), clock, flags, entries)
    assert flags.reload()  # the file changed the flag while the call runs

    keypad.entry.press("7")
    await keypad.clock.elapse(0.5)
    assert keypad.entries == ["7"]


async def test_the_expected_number_of_digits_ends_the_entry_at_once(keypad: Keypad) -> None:
    keypad.entry.expect_digits(10)

    keypad.entry.press("06123")
    keypad.entry.press("45678")

    assert keypad.entries == ["0612345678"]
    keypad.entry.press("#")  # the hash the prompt asked for, after the number: nothing more
    await keypad.clock.elapse(5)
    assert keypad.entries == ["0612345678"]


async def test_without_an_expectation_only_hash_or_the_pause_end_an_entry(keypad: Keypad) -> None:
    keypad.entry.expect_digits(10)
    keypad.entry.expect_digits(None)

    keypad.entry.press("0612345678")
    assert keypad.entries == []
    await keypad.clock.elapse(2)
    assert keypad.entries == ["0612345678"]


async def test_star_clears_what_was_typed_and_the_caller_starts_over(keypad: Keypad) -> None:
    keypad.entry.press("123*")
    await keypad.clock.elapse(5)
    assert keypad.entries == []  # nothing left to submit after the clear

    keypad.entry.press("456#")

    assert keypad.entries == ["456"]


async def test_a_lone_hash_is_no_entry(keypad: Keypad) -> None:
    keypad.entry.press("#")
    keypad.entry.press("##")
    assert keypad.entries == []


async def test_an_entry_never_grows_past_the_longest_dtmf_message(keypad: Keypad) -> None:
    keypad.entry.press("1" * (MAX_DIGITS + 3))
    await keypad.clock.elapse(2)
    assert keypad.entries == ["1" * MAX_DIGITS, "111"]


async def test_several_entries_in_a_row_stay_apart(keypad: Keypad) -> None:
    keypad.entry.press("1#2")
    await keypad.clock.elapse(2)
    keypad.entry.press("3#")
    assert keypad.entries == ["1", "2", "3"]
