"""The blob store seam: the same behaviour from ``local`` (a private directory) and
``azure`` (the real azure-storage-blob SDK against the protocol-accurate local fake)."""

from __future__ import annotations

import os
import stat
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from switchboard.blob_local import LocalBlobStore
from switchboard.blobs import BlobStore, checked_name, create_blob_store
from switchboard.config import ConfigError, RecordingSettings
from switchboard.errors import InvalidArgument, NotFound
from switchboard.providers import Vendor
from switchboard.recordings import call_recordings, delete_expired, recording_name
from switchboard_testing.fake_blob import FakeBlobStorage

CALL = "0d6f7c8e-0000-4000-8000-0000000000aa"


@pytest.fixture
async def fake_storage() -> AsyncIterator[FakeBlobStorage]:
    fake = FakeBlobStorage()
    await fake.start()
    yield fake
    await fake.stop()


def azure_store(fake: FakeBlobStorage, key: str | None = None) -> BlobStore:
    pytest.importorskip("azure.storage.blob", reason="pip install -r requirements-azure.txt")
    from switchboard.blob_azure import AzureBlobStore

    settings = RecordingSettings(
        provider="azure", azure_account_url=fake.account_url, azure_account_key=key or fake.key
    )
    # Small sizes so a test file goes up in blocks, as a long call's recording does.
    return AzureBlobStore(settings, single_put_bytes=64 * 1024, block_bytes=32 * 1024)


@pytest.fixture(params=["local", "azure"])
async def blobs(
    request: pytest.FixtureRequest, tmp_path: Path, fake_storage: FakeBlobStorage
) -> AsyncIterator[BlobStore]:
    if request.param == "local":
        store: BlobStore = create_blob_store(
            RecordingSettings(local_dir=str(tmp_path / "recordings"))
        )
    else:
        store = azure_store(fake_storage)
    yield store
    await store.close()


async def read_all(blobs: BlobStore, name: str, offset: int = 0, length: int | None = None):
    return b"".join([chunk async for chunk in blobs.read(name, offset, length)])


def a_file(tmp_path: Path, size: int, name: str = "source.wav") -> tuple[Path, bytes]:
    data = os.urandom(size)
    path = tmp_path / name
    path.write_bytes(data)
    return path, data


async def test_a_stored_file_reads_back_whole_and_in_ranges(
    blobs: BlobStore, tmp_path: Path
) -> None:
    path, data = a_file(tmp_path, 200_000)  # above one put and one read chunk
    name = recording_name(CALL, 1)
    await blobs.put_file(name, path)

    info = await blobs.info(name)
    assert info is not None and info.size == len(data)
    assert abs(info.modified - datetime.now(UTC)) < timedelta(minutes=1)
    assert await read_all(blobs, name) == data
    assert await read_all(blobs, name, 70_000, 100_001) == data[70_000:170_001]
    assert await read_all(blobs, name, 199_990) == data[199_990:]


async def test_listing_by_prefix_replacing_and_deleting(blobs: BlobStore, tmp_path: Path) -> None:
    first, _ = a_file(tmp_path, 10, "a")
    second, second_data = a_file(tmp_path, 20, "b")
    other = "0d6f7c8e-0000-4000-8000-0000000000bb"
    await blobs.put_file(recording_name(CALL, 2), first)
    await blobs.put_file(recording_name(CALL, 1), first)
    await blobs.put_file(recording_name(other, 1), first)
    await blobs.put_file(recording_name(CALL, 2), second)  # replaced

    assert [r.attempt for r in await call_recordings(blobs, CALL)] == [1, 2]
    assert await read_all(blobs, recording_name(CALL, 2)) == second_data
    assert len(await blobs.list_blobs()) == 3
    assert await blobs.delete(recording_name(CALL, 1)) is True
    assert await blobs.delete(recording_name(CALL, 1)) is False
    assert await blobs.info(recording_name(CALL, 1)) is None
    with pytest.raises(NotFound):
        await read_all(blobs, recording_name(CALL, 1))
    assert [b.name for b in await blobs.list_blobs()] == [
        recording_name(CALL, 2),
        recording_name(other, 1),
    ]


async def test_expired_recordings_are_deleted_by_age(blobs: BlobStore, tmp_path: Path) -> None:
    path, _ = a_file(tmp_path, 10)
    await blobs.put_file(recording_name(CALL, 1), path)
    now = datetime.now(UTC)
    assert await delete_expired(blobs, now, retention_days=1) == 0
    assert await delete_expired(blobs, now + timedelta(days=2), retention_days=1) == 1
    assert await blobs.list_blobs() == []


async def test_names_that_could_leave_the_store_are_refused(blobs: BlobStore) -> None:
    for bad in ("../etc/passwd", "a/../../b", "/abs", "", "a//b", "a/.."):
        with pytest.raises(InvalidArgument):
            await blobs.info(bad)
    assert checked_name(recording_name(CALL, 3)) == f"{CALL}/3.wav"


async def test_local_blobs_are_private_files_in_a_private_directory(tmp_path: Path) -> None:
    root = tmp_path / "recordings"
    blobs = LocalBlobStore(RecordingSettings(local_dir=str(root)))
    path, _ = a_file(tmp_path, 10)
    path.chmod(0o644)
    await blobs.put_file(recording_name(CALL, 1), path)
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    assert stat.S_IMODE((root / CALL).stat().st_mode) == 0o700
    assert stat.S_IMODE((root / recording_name(CALL, 1)).stat().st_mode) == 0o600
    assert not list(root.rglob("*.partial"))


async def test_azure_uploads_in_blocks_and_signs_every_request(
    fake_storage: FakeBlobStorage, tmp_path: Path
) -> None:
    blobs = azure_store(fake_storage)
    path, data = a_file(tmp_path, 100_000)
    small, small_data = a_file(tmp_path, 1_000, "small")
    await blobs.put_file(recording_name(CALL, 1), path)
    await blobs.put_file(recording_name(CALL, 2), small)
    assert fake_storage.requests[:1] == ["Create Container"]
    assert fake_storage.requests.count("Put Block") == 4  # 100 000 bytes in 32 KiB blocks
    assert fake_storage.requests.count("Put Block List") == 1
    assert fake_storage.requests.count("Put Blob") == 1  # the small one in one request
    stored = fake_storage.containers["recordings"]
    assert stored[recording_name(CALL, 1)].data == data
    assert stored[recording_name(CALL, 2)].data == small_data
    assert fake_storage.rejected == 0
    await blobs.close()


async def test_azure_with_a_wrong_account_key_is_refused(
    fake_storage: FakeBlobStorage, tmp_path: Path
) -> None:
    import base64

    blobs = azure_store(fake_storage, key=base64.b64encode(b"not the key").decode())
    path, _ = a_file(tmp_path, 10)
    with pytest.raises(Exception, match=r"AuthenticationFailed|403"):
        await blobs.put_file(recording_name(CALL, 1), path)
    assert fake_storage.rejected >= 1
    assert fake_storage.containers == {}
    await blobs.close()


def test_an_unknown_provider_or_missing_sdk_is_a_config_error() -> None:
    from switchboard.blobs import BLOB_STORES
    from switchboard.providers import create

    with pytest.raises(ConfigError, match="choose one of azure, local"):
        create(BLOB_STORES, "s3", RecordingSettings())
    missing = BLOB_STORES.adding(
        "nosdk", Vendor("switchboard_testing.no_such_sdk:Store", extra="requirements-azure.txt")
    )
    with pytest.raises(ConfigError, match=r"requirements-azure\.txt"):
        create(missing, "nosdk", RecordingSettings())
