"""The blob store seam: named files kept outside the database (call recordings).

One base class, :class:`BlobStore`, and one module per vendor: ``local`` (a private
directory, :mod:`switchboard.blob_local`) and ``azure`` (Azure Blob Storage,
:mod:`switchboard.blob_azure`), chosen by ``recording.provider``. A blob's name is
``/``-separated parts of letters, digits, ``.``, ``_`` and ``-`` (never ``..``), so a
name can never leave the store's root. Blobs hold personal data: a provider never logs
their content, and names (made of ids only) are the most it logs.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from switchboard.config import RecordingSettings
from switchboard.errors import InvalidArgument
from switchboard.providers import Seam, Vendor, create

# Bytes per chunk when a blob is read.
READ_CHUNK_BYTES = 64 * 1024
_NAME_PART = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$")
MAX_NAME_PARTS = 8


@dataclass(frozen=True)
class BlobInfo:
    """A stored blob: its name, its size in bytes and when it was last written (UTC)."""

    name: str
    size: int
    modified: datetime


def checked_name(name: str) -> str:
    """``name`` when it is a valid blob name; InvalidArgument otherwise."""
    parts = name.split("/")
    if not 0 < len(parts) <= MAX_NAME_PARTS or not all(
        _NAME_PART.match(p) and ".." not in p for p in parts
    ):
        raise InvalidArgument("a blob name is /-separated parts of letters, digits, . _ and -")
    return name


class BlobStore(ABC):
    """Named blobs: written whole from a file, read in ranges, listed, deleted."""

    name: str = ""

    @abstractmethod
    async def put_file(self, name: str, path: Path) -> None:
        """Stores the file at ``path`` as ``name`` (replacing one of that name), whole
        or not at all: a reader never sees half a blob."""

    @abstractmethod
    async def info(self, name: str) -> BlobInfo | None:
        """The blob called ``name``; None when there is none."""

    @abstractmethod
    def read(self, name: str, offset: int = 0, length: int | None = None) -> AsyncIterator[bytes]:
        """The bytes of ``name`` from ``offset`` (``length`` of them, or to the end), in
        chunks; raises NotFound when it is gone."""

    @abstractmethod
    async def list_blobs(self, prefix: str = "") -> list[BlobInfo]:
        """The blobs whose names start with ``prefix``, by name."""

    @abstractmethod
    async def delete(self, name: str) -> bool:
        """Deletes ``name``; False when there was none."""

    async def close(self) -> None:  # noqa: B027 - an optional hook, a no-op by default
        """Releases the provider's connections."""


BLOB_STORES: Seam[BlobStore] = Seam(
    "recording.provider",
    BlobStore,
    {
        "local": Vendor("switchboard.blob_local:LocalBlobStore", section=""),
        "azure": Vendor(
            "switchboard.blob_azure:AzureBlobStore", extra="requirements-azure.txt", section=""
        ),
    },
)


def create_blob_store(settings: RecordingSettings) -> BlobStore:
    """The blob store ``recording.provider`` names, for these settings."""
    return create(BLOB_STORES, settings.provider, settings)
