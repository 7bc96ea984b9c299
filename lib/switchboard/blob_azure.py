"""The ``azure`` blob store: Azure Blob Storage (``azure-storage-blob``, requirements-azure.txt).

Blobs live in one container (``recording.azure_container``, created on first write
when missing) of the account at ``recording.azure_account_url``. The account key
comes from the environment (``SWITCHBOARD__RECORDING__AZURE_ACCOUNT_KEY``); without
it a managed identity authenticates (``azure-identity``). The SDK is synchronous
here: every call runs in a worker thread, so the event loop never waits on the
network. Large files go up as blocks (Put Block + Put Block List), small ones in
one Put Blob.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError

# An optional extra (requirements-azure.txt): typed when installed, absent from a base install.
from azure.storage.blob import (  # type: ignore[import-not-found,import-untyped,unused-ignore]
    BlobServiceClient,
    ContainerClient,
)

from switchboard.blobs import READ_CHUNK_BYTES, BlobInfo, BlobStore, checked_name
from switchboard.config import RecordingSettings
from switchboard.errors import NotFound

# Files above this go up in blocks of BLOCK_BYTES (the SDK's defaults are 64 MB / 4 MB).
SINGLE_PUT_BYTES = 8 * 1024 * 1024
BLOCK_BYTES = 4 * 1024 * 1024


class AzureBlobStore(BlobStore):
    """Blobs in an Azure Storage container."""

    name = "azure"

    def __init__(
        self,
        settings: RecordingSettings,
        single_put_bytes: int = SINGLE_PUT_BYTES,
        block_bytes: int = BLOCK_BYTES,
    ) -> None:
        credential: Any
        if settings.azure_account_key:
            credential = settings.azure_account_key
        else:
            from azure.identity import (  # type: ignore[import-not-found,import-untyped,unused-ignore]
                DefaultAzureCredential,
            )

            credential = DefaultAzureCredential()
        self._service = BlobServiceClient(
            settings.azure_account_url,
            credential=credential,
            max_single_put_size=single_put_bytes,
            max_block_size=block_bytes,
            max_chunk_get_size=READ_CHUNK_BYTES,
            max_single_get_size=READ_CHUNK_BYTES,
        )
        self._container: ContainerClient = self._service.get_container_client(
            settings.azure_container
        )
        self._container_ready = False

    async def put_file(self, name: str, path: Path) -> None:
        await asyncio.to_thread(self._put, checked_name(name), path)

    def _put(self, name: str, path: Path) -> None:
        if not self._container_ready:
            try:
                self._container.create_container()
            except ResourceExistsError:
                pass
            self._container_ready = True
        with path.open("rb") as data:
            self._container.upload_blob(name, data, overwrite=True, length=path.stat().st_size)

    async def info(self, name: str) -> BlobInfo | None:
        return await asyncio.to_thread(self._info, checked_name(name))

    def _info(self, name: str) -> BlobInfo | None:
        try:
            props = self._container.get_blob_client(name).get_blob_properties()
        except ResourceNotFoundError:
            return None
        return BlobInfo(name, props.size, props.last_modified)

    async def read(
        self, name: str, offset: int = 0, length: int | None = None
    ) -> AsyncIterator[bytes]:
        blob = self._container.get_blob_client(checked_name(name))
        try:
            chunks = await asyncio.to_thread(_download_chunks, blob, offset, length)
        except ResourceNotFoundError as exc:
            raise NotFound("no such blob") from exc
        while (chunk := await asyncio.to_thread(next, chunks, b"")) != b"":
            yield chunk

    async def list_blobs(self, prefix: str = "") -> list[BlobInfo]:
        return await asyncio.to_thread(self._list, prefix)

    def _list(self, prefix: str) -> list[BlobInfo]:
        try:
            found = [
                BlobInfo(b.name, b.size, b.last_modified)
                for b in self._container.list_blobs(name_starts_with=prefix or None)
            ]
        except ResourceNotFoundError:  # no container yet: nothing was ever written
            return []
        return sorted(found, key=lambda blob: blob.name)

    async def delete(self, name: str) -> bool:
        return await asyncio.to_thread(self._delete, checked_name(name))

    def _delete(self, name: str) -> bool:
        try:
            self._container.delete_blob(name)
        except ResourceNotFoundError:
            return False
        return True

    async def close(self) -> None:
        await asyncio.to_thread(self._service.close)


def _download_chunks(blob: Any, offset: int, length: int | None) -> Iterator[bytes]:
    """The blob's bytes in chunks; the first request is made here (NotFound surfaces now)."""
    downloader = blob.download_blob(offset=offset, length=length)
    chunks: Iterator[bytes] = downloader.chunks()
    return chunks
