"""Where a call's recordings are kept: the one naming contract of the dialer and gateway.

A connected call attempt recorded with ``features.recording_enabled`` leaves one stereo
WAV (caller left, bot right) in the blob store, named ``<call id>/<attempt>.wav``: a
call resumed by a callback keeps one recording per attempt. The name is the link, so
nothing about a recording is stored with the call: what the blob store holds is what
exists, and the retention sweep deleting a blob leaves nothing stale behind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from switchboard.blobs import BlobInfo, BlobStore

CONTENT_TYPE = "audio/wav"
_NAME = re.compile(r"^(?P<call_id>[0-9a-f-]{36})/(?P<attempt>[1-9][0-9]{0,8})\.wav$")


@dataclass(frozen=True)
class Recording:
    """One recorded attempt of a call."""

    call_id: str
    attempt: int
    blob: BlobInfo


def recording_name(call_id: str, attempt: int) -> str:
    return f"{call_id}/{attempt}.wav"


def recording_of(blob: BlobInfo) -> Recording | None:
    """The recording ``blob`` holds; None for a blob not named as a recording."""
    match = _NAME.match(blob.name)
    if match is None:
        return None
    return Recording(match["call_id"], int(match["attempt"]), blob)


async def call_recordings(blobs: BlobStore, call_id: str) -> list[Recording]:
    """The call's recordings, first attempt first."""
    found = [recording_of(blob) for blob in await blobs.list_blobs(f"{call_id}/")]
    return sorted(
        (r for r in found if r is not None and r.call_id == call_id), key=lambda r: r.attempt
    )


async def delete_expired(blobs: BlobStore, now: datetime, retention_days: float) -> int:
    """Deletes every recording last written more than ``retention_days`` before ``now``;
    returns how many went."""
    cutoff = now - timedelta(days=retention_days)
    deleted = 0
    for blob in await blobs.list_blobs():
        if recording_of(blob) is not None and blob.modified < cutoff:
            deleted += await blobs.delete(blob.name)
    return deleted
