"""A call's recording: ``GET /call/{call_id}/recording``, the WAV the report page plays.

Recordings are personal data: served only with an API key or the page session (the
report's ``<audio>`` element sends the cookie), never cached (``no-store``), never
logged. The gateway reads the same blob store the dialer writes (``recording``
settings): with the ``local`` provider both must see one directory.
"""

from __future__ import annotations

import logging
import re
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from switchboard.blobs import BlobStore
from switchboard.recordings import CONTENT_TYPE, Recording, call_recordings
from switchboard_gateway.auth import require_browser_session
from switchboard_gateway.params import Calls, call_id_of, known_query_only
from switchboard_gateway.problems import ApiError, error_responses

log = logging.getLogger(__name__)

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
MAX_ATTEMPT = 1_000_000

router = APIRouter(
    tags=["recordings"],
    dependencies=[Depends(require_browser_session), Depends(known_query_only)],
)


def _blobs(request: Request) -> BlobStore | None:
    blobs: BlobStore | None = request.app.state.recordings
    return blobs


Blobs = Annotated[BlobStore | None, Depends(_blobs)]

WAV_BODY = {CONTENT_TYPE: {"schema": {"type": "string", "format": "binary"}}}
NO_STORE = {"Cache-Control": {"schema": {"type": "string", "enum": ["no-store"]}}}


@router.get(
    "/call/{call_id}/recording",
    summary="A call's recording (WAV)",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": WAV_BODY,
            "description": "Stereo 16-bit WAV: the caller on the left, the bot on the right",
            "headers": NO_STORE,
        },
        206: {"content": WAV_BODY, "description": "The part a Range header asked for"},
        **error_responses(404, 416, 422, 503),
    },
)
async def get_recording(
    call_id: str,
    request: Request,
    calls: Calls,
    blobs: Blobs,
    attempt: int | None = Query(
        None,
        ge=1,
        le=MAX_ATTEMPT,
        description="Which attempt of a resumed call (1 is the first); the latest by default",
    ),
) -> StreamingResponse:
    """Both sides of the call, recorded when ``recording_enabled`` was on as it connected.
    404 when the call has none (not recorded, or deleted after the retention period).
    A single ``Range: bytes=start-end`` is honoured (206), so players can seek."""
    call = await calls.get_call(call_id_of(call_id))
    recording = await _pick(blobs, call.call_id, attempt)
    size = recording.blob.size
    start, end = _range(request.headers.get("range"), size)
    headers = {
        "Cache-Control": "no-store",
        "Accept-Ranges": "bytes",
        "Content-Length": str(end - start),
    }
    status = 200
    if (start, end) != (0, size):
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    assert blobs is not None
    return StreamingResponse(
        blobs.read(recording.blob.name, start, end - start),
        status_code=status,
        media_type=CONTENT_TYPE,
        headers=headers,
    )


async def listed(blobs: BlobStore | None, call_id: str) -> list[Recording]:
    """The call's recordings; 503 when the blob store cannot be read."""
    if blobs is None:
        return []
    try:
        return await call_recordings(blobs, call_id)
    except Exception as exc:  # any vendor error: the store is away
        log.warning(
            "recordings not listed", extra={"call_id": call_id, "error": type(exc).__name__}
        )
        raise ApiError(503, "the recording store is not reachable; try again") from exc


async def _pick(blobs: BlobStore | None, call_id: str, attempt: int | None) -> Recording:
    found = await listed(blobs, call_id)
    if attempt is not None:
        found = [r for r in found if r.attempt == attempt]
    if not found:
        raise ApiError(404, "this call has no recording")
    return found[-1]


def _range(header: str | None, size: int) -> tuple[int, int]:
    """The [start, end) a ``Range`` header asks for; the whole blob without one (or for a
    form this endpoint does not serve, as RFC 9110 allows); 416 when it is unsatisfiable."""
    match = _RANGE.match(header.strip()) if header else None
    if match is None or not any(match.groups()):
        return 0, size
    first, last = match.groups()
    if not first:  # the last N bytes
        start, end = max(0, size - int(last)), size
    else:
        start = int(first)
        end = min(size, int(last) + 1) if last else size
    if start >= size or start >= end:
        raise ApiError(
            416,
            f"the range is outside the recording ({size} bytes)",
            headers={"Content-Range": f"bytes */{size}"},
        )
    return start, end
