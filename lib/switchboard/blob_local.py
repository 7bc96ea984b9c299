"""The ``local`` blob store: files under a private directory (``recording.local_dir``).

Files are 0600 and directories 0700 (:mod:`switchboard.private_files`), whatever the
process umask. A blob is copied to ``<name>.partial`` and renamed into place, so a
reader sees it whole or not at all. Every process that reads or writes blobs (the
dialer writes recordings, the gateway serves them) must see the same directory: one
machine, or a volume they share.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

from switchboard.blobs import READ_CHUNK_BYTES, BlobInfo, BlobStore, checked_name
from switchboard.config import RecordingSettings
from switchboard.errors import NotFound
from switchboard.private_files import PRIVATE_FILE_MODE, make_private, private_dir

PARTIAL_SUFFIX = ".partial"


class LocalBlobStore(BlobStore):
    """Blobs as files under ``settings.local_dir``."""

    name = "local"

    def __init__(self, settings: RecordingSettings) -> None:
        self.root = Path(settings.local_dir)

    def _path(self, name: str) -> Path:
        return self.root / checked_name(name)

    async def put_file(self, name: str, path: Path) -> None:
        await asyncio.to_thread(self._put, self._path(name), path)

    def _put(self, target: Path, source: Path) -> None:
        private_dir(target.parent)
        partial = target.with_name(target.name + PARTIAL_SUFFIX)
        try:
            shutil.copyfile(source, partial)
            partial.chmod(PRIVATE_FILE_MODE)
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
        make_private(self.root)

    async def info(self, name: str) -> BlobInfo | None:
        path = self._path(name)
        try:
            stat = await asyncio.to_thread(path.stat)
        except (FileNotFoundError, NotADirectoryError):
            return None
        return BlobInfo(name, stat.st_size, datetime.fromtimestamp(stat.st_mtime, UTC))

    async def read(
        self, name: str, offset: int = 0, length: int | None = None
    ) -> AsyncIterator[bytes]:
        path = self._path(name)
        try:
            file = await asyncio.to_thread(path.open, "rb")
        except (FileNotFoundError, NotADirectoryError) as exc:
            raise NotFound("no such blob") from exc
        try:
            await asyncio.to_thread(file.seek, offset)
            left = length
            while left is None or left > 0:
                want = READ_CHUNK_BYTES if left is None else min(READ_CHUNK_BYTES, left)
                chunk = await asyncio.to_thread(file.read, want)
                if not chunk:
                    return
                if left is not None:
                    left -= len(chunk)
                yield chunk
        finally:
            file.close()

    async def list_blobs(self, prefix: str = "") -> list[BlobInfo]:
        return await asyncio.to_thread(self._list, prefix)

    def _list(self, prefix: str) -> list[BlobInfo]:
        found: list[BlobInfo] = []
        if not self.root.is_dir():
            return found
        for directory, _dirs, files in os.walk(self.root):
            for file in files:
                path = Path(directory) / file
                name = path.relative_to(self.root).as_posix()
                if file.endswith(PARTIAL_SUFFIX) or not name.startswith(prefix):
                    continue
                with contextlib.suppress(FileNotFoundError):  # deleted while we looked
                    stat = path.stat()
                    modified = datetime.fromtimestamp(stat.st_mtime, UTC)
                    found.append(BlobInfo(name, stat.st_size, modified))
        return sorted(found, key=lambda blob: blob.name)

    async def delete(self, name: str) -> bool:
        return await asyncio.to_thread(self._delete, self._path(name))

    def _delete(self, path: Path) -> bool:
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        # Its directory goes with its last blob (not the root).
        with contextlib.suppress(OSError):
            if path.parent != self.root:
                path.parent.rmdir()
        return True
