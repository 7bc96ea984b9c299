"""``CallRecordings``: the dialer's side of call recording.

``features.recording_enabled`` is read when a voice call connects: a call answered
while it is on is recorded to its end, and turning it on mid-call records only the
calls that connect after (a recording that starts halfway has no timeline to align
on, and would miss what the caller agreed to). When the call has ended (its ENDED
state stored first, so the report never waits on an upload) the spooled WAV goes to
the blob store as ``<call id>/<attempt>.wav`` and the spool file is removed.

The retention sweep (:meth:`CallRecordings.run_sweeps`) runs on every dialer replica
every ``recording.sweep_sec``, deleting recordings older than
``features.recording_retention_days`` (read live each pass); deletes are idempotent,
so replicas sweeping the same store do no harm. Logs name the call id, never a path.
"""

from __future__ import annotations

import logging

from switchboard import domain
from switchboard.blobs import BlobStore
from switchboard.clock import Clock
from switchboard.config import RecordingSettings
from switchboard.features import FeatureFlags
from switchboard.recordings import delete_expired, recording_name
from switchboard_dialer.media.recorder import CallRecorder
from switchboard_dialer.telephony.base import PhoneLine

log = logging.getLogger(__name__)


class CallRecordings:
    """Starts a recorder for calls that connect while recording is on; stores and sweeps."""

    def __init__(
        self,
        blobs: BlobStore,
        flags: FeatureFlags,
        settings: RecordingSettings,
        clock: Clock,
    ) -> None:
        self.blobs = blobs
        self._flags = flags
        self._settings = settings
        self._clock = clock

    def start(self, call: domain.Call, line: PhoneLine) -> CallRecorder | None:
        """A recorder for this connected call; None for a text line or recording off."""
        if not line.is_voice or not self._flags.current.recording_enabled:
            return None
        try:
            recorder = CallRecorder(
                call.call_id,
                line.sample_rate,
                self._clock,
                self._settings.spool_dir,
                speed=line.playout_speed,
            )
        except OSError as exc:  # no spool space: the call goes on unrecorded
            log.warning(
                "call not recorded: no spool file",
                extra={"call_id": call.call_id, "error": type(exc).__name__},
            )
            return None
        log.info("recording the call", extra={"call_id": call.call_id})
        return recorder

    async def store(self, call: domain.Call, recorder: CallRecorder) -> bool:
        """Completes the recording and stores it; False (logged) when it could not be."""
        name = recording_name(call.call_id, call.attempt)
        try:
            await self.blobs.put_file(name, await recorder.finish())
        except Exception as exc:  # any vendor error: the call is over either way
            log.warning(
                "recording not stored",
                extra={"call_id": call.call_id, "error": type(exc).__name__},
            )
            return False
        finally:
            recorder.discard()
        log.info(
            "recording stored",
            extra={"call_id": call.call_id, "attempt": call.attempt, "frames": recorder.frames},
        )
        return True

    async def sweep(self) -> int:
        """Deletes expired recordings once; returns how many."""
        retention = self._flags.current.recording_retention_days
        deleted = await delete_expired(self.blobs, self._clock.now(), retention)
        if deleted:
            log.info("expired recordings deleted", extra={"recordings": deleted})
        return deleted

    async def run_sweeps(self) -> None:
        """Sweeps now and every ``recording.sweep_sec`` until cancelled."""
        while True:
            try:
                await self.sweep()
            except Exception as exc:  # the store may be away for a while: next pass
                log.warning("recording sweep failed", extra={"error": type(exc).__name__})
            await self._clock.sleep(self._settings.sweep_sec)
