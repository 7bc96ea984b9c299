"""Call recording in the dialer: the stereo timeline, the recorder on a voice call, retention.

Tones make the channels recognisable: the caller's is 440 Hz, the bot's 1000 Hz. Each
tick of the timeline is one 20 ms frame; a side's frame at a tick is found by the
tone's energy there.
"""

from __future__ import annotations

import asyncio
import io
import math
import os
import struct
import wave
from datetime import timedelta
from pathlib import Path

import pytest

from switchboard.blob_local import LocalBlobStore
from switchboard.config import Features, RecordingSettings
from switchboard.phone import AudioFrame, PhoneAnswer
from switchboard.recordings import call_recordings, recording_name
from switchboard_dialer.media.stereo_wav import HOLD_TICKS, StereoTimeline
from switchboard_testing.dialer_fakes import build_rig
from switchboard_testing.speech_fakes import FRAMES_PER_WORD

from .test_voice import GREETING_FRAMES, downlink, play, ring_voice_phone

RATE = 8000
TICK = 0.020
SAMPLES = RATE // 50


def tone(hz: float, tick: int, amplitude: int = 8000) -> bytes:
    """One 20 ms frame of a sine, continuous across ticks."""
    start = tick * SAMPLES
    return struct.pack(
        f"<{SAMPLES}h",
        *(int(amplitude * math.sin(2 * math.pi * hz * (start + i) / RATE)) for i in range(SAMPLES)),
    )


def marked(value: int) -> bytes:
    """A frame whose every sample is ``value``: where it lands is exact."""
    return struct.pack(f"<{SAMPLES}h", *([value] * SAMPLES))


def channels(data: bytes) -> tuple[list[int], list[int]]:
    with wave.open(io.BytesIO(data)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (2, 2, RATE)
        raw = wav.readframes(wav.getnframes())
    samples = struct.unpack(f"<{len(raw) // 2}h", raw)
    return list(samples[0::2]), list(samples[1::2])


def tick_rms(side: list[int]) -> list[float]:
    return [
        math.sqrt(sum(s * s for s in side[i : i + SAMPLES]) / SAMPLES)
        for i in range(0, len(side), SAMPLES)
    ]


def voiced(side: list[int]) -> list[bool]:
    return [rms > 100 for rms in tick_rms(side)]  # fake speech's frames: RMS 257


def tick_values(side: list[int]) -> list[int]:
    return [side[i] for i in range(0, len(side), SAMPLES)]


def timeline() -> tuple[StereoTimeline, io.BytesIO]:
    out = io.BytesIO()
    return StereoTimeline(out, RATE, start=100.0, tick_sec=TICK), out


def on_time(tick: int, late: float = 0.003) -> float:
    """The clock reading of a frame read ``late`` after its tick."""
    return 100.0 + tick * TICK + late


# The stereo timeline.


def test_caller_left_bot_right_with_a_lost_stretch_of_caller_frames_left_silent() -> None:
    stereo, out = timeline()
    caller = [(on_time(t), tone(440, t)) for t in range(50) if not 20 <= t < 30]
    bot = [(on_time(t, 0.001), tone(1000, t)) for t in range(10, 30)]

    stereo.close(caller, bot)

    left, right = channels(out.getvalue())
    assert len(left) == 50 * SAMPLES
    assert voiced(left) == [not 20 <= t < 30 for t in range(50)]
    assert voiced(right) == [10 <= t < 30 for t in range(50)]
    # Sample-exact: the tones are where their ticks say, not merely somewhere voiced.
    assert left[: 20 * SAMPLES] == list(
        struct.unpack(f"<{20 * SAMPLES}h", b"".join(tone(440, t) for t in range(20)))
    )
    assert right[10 * SAMPLES : 11 * SAMPLES] == list(struct.unpack(f"<{SAMPLES}h", tone(1000, 10)))


def test_caller_frames_read_in_a_burst_after_a_stall_go_back_to_their_own_ticks() -> None:
    stereo, out = timeline()
    # Ticks 10..24 queued while the dialer was busy: all read at tick 25's time.
    caller = [(on_time(t) if not 10 <= t < 25 else on_time(25), marked(t + 1)) for t in range(40)]

    stereo.close(caller, [])

    left, _right = channels(out.getvalue())
    assert tick_values(left) == [t + 1 for t in range(40)]  # no silence, no shift


def test_batches_lay_frames_as_one_whole_call_would() -> None:
    caller = [(on_time(t), marked(t + 1)) for t in range(400) if not 150 <= t < 170]
    bot = [(on_time(t, 0.001), marked(-(t + 1))) for t in range(100, 220)]
    whole, whole_out = timeline()
    whole.close(caller, bot)
    batched, batched_out = timeline()
    for start in range(0, 400, 37):  # uneven batches, each added at its end's time
        end = start + 37
        batched.add(
            [f for f in caller if on_time(start) <= f[0] < on_time(end)],
            [f for f in bot if on_time(start) <= f[0] < on_time(end)],
            now=on_time(end),
        )
    batched.close([], [])

    assert batched_out.getvalue() == whole_out.getvalue()
    left, right = channels(whole_out.getvalue())
    assert tick_values(left)[148:172] == [149, 150] + [0] * 20 + [171, 172]
    assert tick_values(right)[98:102] == [0, 0, -101, -102]


def test_the_file_grows_during_the_call_and_the_bot_is_silent_when_nothing_is_played() -> None:
    stereo, out = timeline()
    stereo.add([(on_time(t), marked(7)) for t in range(300)], [], now=on_time(300))
    assert stereo.ticks_written == 300 - HOLD_TICKS  # held back for the next batch
    stereo.close([], [])
    left, right = channels(out.getvalue())
    assert set(tick_values(left)) == {7} and set(right) == {0}


# The recorder on a voice call (virtual clock, simulated phone, fake speech).


async def test_a_recorded_voice_call_stores_caller_left_and_the_greeting_right(
    tmp_path: Path,
) -> None:
    spool = tmp_path / "spool"
    spool.mkdir()
    settings = RecordingSettings(local_dir=str(tmp_path / "recordings"), spool_dir=str(spool))
    blobs = LocalBlobStore(settings)
    rig = build_rig(Features(recording_enabled=True), blobs=blobs, recording=settings)
    try:
        phone, call_id = await ring_voice_phone(rig)
        await phone.handle(PhoneAnswer(call_id=call_id))
        await rig.clock.settle()
        # One caller frame per tick, the greeting playing over the first ones; the caller
        # speaks (a tone) only after the greeting.
        quiet = bytes(SAMPLES * 2)
        for tick in range(GREETING_FRAMES + 40):
            speaking = tick >= GREETING_FRAMES + 10
            await phone.handle(AudioFrame(tone(440, tick) if speaking else quiet))
            await play(rig.clock, 1)
        downlink(phone)
        await rig.app.registry.hang_up(call_id, "test_done")
        await rig.ended(call_id)
    finally:
        await rig.app.stop()

    (recording,) = await call_recordings(blobs, call_id)
    assert recording.blob.name == recording_name(call_id, 1)
    data = b"".join([chunk async for chunk in blobs.read(recording.blob.name)])
    left, right = channels(data)
    bot = voiced(right)
    caller = voiced(left)
    # The greeting (fake speech: 0x0101 samples) fills the first ticks on the right ...
    assert sum(bot[:GREETING_FRAMES]) >= GREETING_FRAMES - 1 and not any(bot[GREETING_FRAMES + 1 :])
    # ... the caller's tone is on the left, where it was sent, and nowhere before.
    assert not any(caller[: GREETING_FRAMES + 9])
    assert all(caller[GREETING_FRAMES + 11 : GREETING_FRAMES + 40])
    assert os.listdir(spool) == []  # the spool file is gone once stored
    mode = os.stat(tmp_path / "recordings" / recording.blob.name).st_mode & 0o777
    assert mode == 0o600


async def test_a_call_connected_while_recording_is_off_leaves_no_recording(
    tmp_path: Path,
) -> None:
    blobs = LocalBlobStore(RecordingSettings(local_dir=str(tmp_path)))
    rig = build_rig(Features(recording_enabled=False), blobs=blobs)
    try:
        phone, call_id = await ring_voice_phone(rig)
        await phone.handle(PhoneAnswer(call_id=call_id))
        await rig.clock.settle()
        await play(rig.clock, FRAMES_PER_WORD)
        await rig.app.registry.hang_up(call_id, "test_done")
        await rig.ended(call_id)
    finally:
        await rig.app.stop()
    assert await blobs.list_blobs() == []


# Retention, on the virtual clock.


async def blobs_become(blobs: LocalBlobStore, names: list[str]) -> None:
    """Waits (real time: file work runs in threads) until exactly ``names`` are stored."""
    for _ in range(200):
        if [b.name for b in await blobs.list_blobs()] == names:
            return
        await asyncio.sleep(0.01)
    assert [b.name for b in await blobs.list_blobs()] == names


async def test_the_sweep_deletes_recordings_past_retention_and_keeps_the_rest(
    tmp_path: Path,
) -> None:
    blobs = LocalBlobStore(RecordingSettings(local_dir=str(tmp_path / "recordings")))
    rig = build_rig(Features(recording_retention_days=7), blobs=blobs)
    source = tmp_path / "x.wav"
    source.write_bytes(b"RIFF")
    old, new = "0d6f7c8e-0000-4000-8000-000000000001", "0d6f7c8e-0000-4000-8000-000000000002"
    await blobs.put_file(recording_name(old, 1), source)
    await blobs.put_file(recording_name(new, 1), source)
    await blobs.put_file("notes/keep.txt", source)  # not a recording: never swept
    now = rig.clock.now().timestamp()
    eight_days = timedelta(days=8).total_seconds()
    os.utime(tmp_path / "recordings" / recording_name(old, 1), (now - eight_days,) * 2)
    os.utime(tmp_path / "recordings" / recording_name(new, 1), (now - 3600,) * 2)
    assert rig.app.recordings is not None
    sweeps = asyncio.create_task(rig.app.recordings.run_sweeps())
    try:
        await blobs_become(blobs, [recording_name(new, 1), "notes/keep.txt"])
        # Six days later (virtual time) it is still kept; the next sweep after its 7th
        # day takes it.
        await rig.clock.elapse(timedelta(days=6).total_seconds())
        await blobs_become(blobs, [recording_name(new, 1), "notes/keep.txt"])
        await rig.clock.elapse(timedelta(days=1).total_seconds())
        # A sweep still listing files in its thread when the clock moved sleeps from the
        # new time: move it on by a sweep period until one has run, a bounded number.
        for _ in range(20):
            await rig.clock.elapse(RecordingSettings().sweep_sec)
            if [b.name for b in await blobs.list_blobs()] == ["notes/keep.txt"]:
                break
            await asyncio.sleep(0.05)
        await blobs_become(blobs, ["notes/keep.txt"])
    finally:
        sweeps.cancel()
        await rig.app.stop()


def test_recording_settings_refuse_azure_without_an_account_url() -> None:
    with pytest.raises(ValueError, match="azure_account_url"):
        RecordingSettings(provider="azure")
