"""``GET /call/{id}/recording`` and the report's player, over a real local blob store."""

from __future__ import annotations

import io
import struct
import wave
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from switchboard.blob_local import LocalBlobStore
from switchboard.config import RecordingSettings, Settings
from switchboard.domain import Call
from switchboard.recordings import recording_name
from switchboard_gateway.app import create_app
from switchboard_gateway.auth import SESSION_COOKIE
from switchboard_gateway.memory_backend import InMemoryCallBackend

from .conftest import API_KEY, AUTH

RATE = 8000


def stereo_wav(ticks: int, left: int, right: int) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(struct.pack("<hh", left, right) * (RATE // 50 * ticks))
    return out.getvalue()


@pytest.fixture
def blobs(tmp_path: Path) -> LocalBlobStore:
    return LocalBlobStore(RecordingSettings(local_dir=str(tmp_path / "recordings")))


@pytest.fixture
def recorded(
    settings: Settings, backend: InMemoryCallBackend, blobs: LocalBlobStore
) -> Iterator[TestClient]:
    app = create_app(settings, backend, recordings=blobs)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


async def store(blobs: LocalBlobStore, tmp_path: Path, call_id: str, attempt: int, data: bytes):
    source = tmp_path / f"source-{attempt}.wav"
    source.write_bytes(data)
    await blobs.put_file(recording_name(call_id, attempt), source)


async def test_the_recording_is_served_as_a_stereo_wav_only_with_the_key(
    recorded: TestClient, blobs: LocalBlobStore, ended_call: Call, tmp_path: Path
) -> None:
    data = stereo_wav(50, left=1000, right=-2000)
    await store(blobs, tmp_path, ended_call.call_id, 1, data)
    url = f"/call/{ended_call.call_id}/recording"

    refused = recorded.get(url)
    assert refused.status_code == 401
    assert refused.content != data

    served = recorded.get(url, headers=AUTH)
    assert served.status_code == 200
    assert served.headers["content-type"] == "audio/wav"
    assert served.headers["cache-control"] == "no-store"
    assert served.content == data
    with wave.open(io.BytesIO(served.content)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (2, 2, RATE)
        assert struct.unpack("<hh", wav.readframes(1)) == (1000, -2000)


async def test_a_range_is_served_as_206_and_an_unsatisfiable_one_is_416(
    recorded: TestClient, blobs: LocalBlobStore, ended_call: Call, tmp_path: Path
) -> None:
    data = stereo_wav(10, left=1, right=2)
    await store(blobs, tmp_path, ended_call.call_id, 1, data)
    url = f"/call/{ended_call.call_id}/recording"

    part = recorded.get(url, headers={**AUTH, "Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 100-199/{len(data)}"
    assert part.content == data[100:200]
    tail = recorded.get(url, headers={**AUTH, "Range": "bytes=-44"})
    assert tail.status_code == 206 and tail.content == data[-44:]
    beyond = recorded.get(url, headers={**AUTH, "Range": f"bytes={len(data)}-"})
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == f"bytes */{len(data)}"


async def test_attempts_are_kept_apart_and_the_latest_is_the_default(
    recorded: TestClient, blobs: LocalBlobStore, ended_call: Call, tmp_path: Path
) -> None:
    first, second = stereo_wav(2, 1, 1), stereo_wav(3, 2, 2)
    await store(blobs, tmp_path, ended_call.call_id, 1, first)
    await store(blobs, tmp_path, ended_call.call_id, 2, second)
    url = f"/call/{ended_call.call_id}/recording"

    assert recorded.get(url, headers=AUTH).content == second
    assert recorded.get(f"{url}?attempt=1", headers=AUTH).content == first
    assert recorded.get(f"{url}?attempt=3", headers=AUTH).status_code == 404


def test_a_call_without_a_recording_and_an_unknown_call_are_404(
    recorded: TestClient, client: TestClient, ended_call: Call
) -> None:
    url = f"/call/{ended_call.call_id}/recording"
    missing = recorded.get(url, headers=AUTH)
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "this call has no recording"
    assert client.get(url).status_code == 404  # a gateway without a blob store
    unknown = recorded.get("/call/00000000-0000-4000-8000-000000000000/recording", headers=AUTH)
    assert unknown.status_code == 404
    assert recorded.get("/call/not-a-uuid/recording", headers=AUTH).status_code == 422


async def test_the_report_plays_the_recording_with_the_page_session(
    recorded: TestClient, blobs: LocalBlobStore, ended_call: Call, tmp_path: Path
) -> None:
    page = recorded.get(f"/report/{ended_call.call_id}", headers=AUTH)
    assert "<audio" not in page.text  # not recorded: no player

    data = stereo_wav(5, 3, 4)
    await store(blobs, tmp_path, ended_call.call_id, 1, data)
    # A browser: opens the report once with ?key=, then only has the cookie.
    login = recorded.get(f"/report/{ended_call.call_id}?key={API_KEY}", follow_redirects=False)
    assert login.status_code in (302, 303, 307)
    assert SESSION_COOKIE in recorded.cookies
    page = recorded.get(f"/report/{ended_call.call_id}")
    assert page.status_code == 200
    src = f'src="/call/{ended_call.call_id}/recording?attempt=1"'
    assert "<audio controls" in page.text and src in page.text
    assert "media-src 'self'" in page.headers["content-security-policy"]
    assert recorded.get(f"/call/{ended_call.call_id}/recording?attempt=1").content == data
