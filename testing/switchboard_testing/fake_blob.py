"""A protocol-accurate fake of Azure Blob Storage, for tests (never shipped).

It answers the REST calls ``azure-storage-blob`` makes for the ``azure`` blob store:
Create Container, Put Blob, Put Block + Put Block List, Get Blob (with ``x-ms-range``
or ``Range``), Get Blob Properties, Delete Blob and List Blobs (XML), at an
Azurite-style address (``http://127.0.0.1:PORT/ACCOUNT``). Every request must carry
a Shared Key signature the fake recomputes independently from the account key (the
2015-02-21+ string-to-sign); a wrong or missing one is a 403 ``AuthenticationFailed``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from urllib.parse import unquote, urlsplit
from xml.etree import ElementTree

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

ACCOUNT = "devstoreaccount1"
ACCOUNT_KEY = base64.b64encode(b"switchboard-fake-blob-account-key-0123456789").decode()
_SIGNED_HEADERS = (
    "content-encoding",
    "content-language",
    "content-length",
    "content-md5",
    "content-type",
    "date",
    "if-modified-since",
    "if-match",
    "if-none-match",
    "if-unmodified-since",
    "range",
)


@dataclass
class StoredBlob:
    data: bytes
    modified: datetime


@dataclass
class FakeBlobStorage:
    """One storage account with containers of blobs; ``requests`` logs each operation."""

    account: str = ACCOUNT
    key: str = ACCOUNT_KEY
    containers: dict[str, dict[str, StoredBlob]] = field(default_factory=dict)
    blocks: dict[tuple[str, str], dict[str, bytes]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    rejected: int = 0
    port: int = 0
    _server: uvicorn.Server | None = None
    _task: asyncio.Task[None] | None = None

    @property
    def account_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{self.account}"

    async def start(self) -> None:
        app = Starlette(
            routes=[Route("/{path:path}", self._handle, methods=["GET", "HEAD", "PUT", "DELETE"])]
        )
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve(), name="fake-blob-storage")
        while not self._server.started:  # noqa: ASYNC110 - uvicorn offers no started event
            await asyncio.sleep(0.01)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    # Shared Key.

    def signature(
        self, method: str, path: str, query: list[tuple[str, str]], headers: dict[str, str]
    ) -> str:
        lowered = {k.lower(): v for k, v in headers.items()}
        if lowered.get("content-length") == "0":
            del lowered["content-length"]
        canonical_headers = "".join(
            f"{name}:{lowered[name]}\n"
            for name in sorted(k for k in lowered if k.startswith("x-ms-"))
        )
        resource = f"/{self.account}{path}" + "".join(
            f"\n{name.lower()}:{unquote(value)}" for name, value in sorted(query)
        )
        to_sign = (
            f"{method}\n"
            + "\n".join(lowered.get(h, "") for h in _SIGNED_HEADERS)
            + "\n"
            + canonical_headers
            + resource
        )
        digest = hmac.new(base64.b64decode(self.key), to_sign.encode(), hashlib.sha256).digest()
        return base64.b64encode(digest).decode()

    def _authorised(self, request: Request) -> bool:
        given = request.headers.get("authorization", "")
        raw_path = urlsplit(str(request.url)).path
        query = [
            tuple(p.split("=", 1)) if "=" in p else (p, "")
            for p in request.url.query.split("&")
            if p
        ]
        expected = f"SharedKey {self.account}:" + self.signature(
            request.method, raw_path, [(k, v) for k, v in query], dict(request.headers)
        )
        return hmac.compare_digest(given, expected)

    # REST.

    async def _handle(self, request: Request) -> Response:
        if not self._authorised(request):
            self.rejected += 1
            return _error(403, "AuthenticationFailed")
        parts = request.path_params["path"].split("/", 2)
        if len(parts) < 2 or parts[0] != self.account:
            return _error(400, "InvalidUri")
        container = parts[1]
        blob = unquote(parts[2]) if len(parts) > 2 else ""
        params = request.query_params
        body = await request.body()
        if not blob:
            return self._container(request.method, container, params.get("restype"), params)
        blobs = self.containers.get(container)
        if blobs is None:
            return _error(404, "ContainerNotFound")
        comp = params.get("comp")
        if request.method == "PUT" and comp == "block":
            self.requests.append("Put Block")
            self.blocks.setdefault((container, blob), {})[params["blockid"]] = body
            return Response(status_code=201)
        if request.method == "PUT" and comp == "blocklist":
            self.requests.append("Put Block List")
            staged = self.blocks.pop((container, blob), {})
            ids = [e.text or "" for e in ElementTree.fromstring(body)]
            if any(i not in staged for i in ids):
                return _error(400, "InvalidBlockList")
            blobs[blob] = StoredBlob(b"".join(staged[i] for i in ids), _now())
            return Response(status_code=201, headers=_dated(blobs[blob]))
        if request.method == "PUT":
            self.requests.append("Put Blob")
            if request.headers.get("x-ms-blob-type") != "BlockBlob":
                return _error(400, "InvalidHeaderValue")
            blobs[blob] = StoredBlob(body, _now())
            return Response(status_code=201, headers=_dated(blobs[blob]))
        stored = blobs.get(blob)
        if stored is None:
            return _error(404, "BlobNotFound")
        if request.method == "DELETE":
            self.requests.append("Delete Blob")
            del blobs[blob]
            return Response(status_code=202)
        if request.method == "HEAD":
            self.requests.append("Get Blob Properties")
            headers = {
                **_dated(stored),
                "Content-Length": str(len(stored.data)),
                "x-ms-blob-type": "BlockBlob",
            }
            return Response(status_code=200, headers=headers)
        self.requests.append("Get Blob")
        return _ranged(stored, request.headers.get("x-ms-range") or request.headers.get("range"))

    def _container(
        self, method: str, container: str, restype: str | None, params: object
    ) -> Response:
        if restype != "container":
            return _error(400, "InvalidQueryParameterValue")
        if method == "PUT":
            self.requests.append("Create Container")
            if container in self.containers:
                return _error(409, "ContainerAlreadyExists")
            self.containers[container] = {}
            return Response(
                status_code=201,
                headers={"Last-Modified": format_datetime(_now(), usegmt=True), "ETag": '"0x1"'},
            )
        if method == "GET":
            self.requests.append("List Blobs")
            blobs = self.containers.get(container)
            if blobs is None:
                return _error(404, "ContainerNotFound")
            prefix = params.get("prefix") or ""
            return Response(_listing(container, blobs, prefix), media_type="application/xml")
        return _error(405, "UnsupportedHttpVerb")


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _dated(blob: StoredBlob) -> dict[str, str]:
    return {
        "Last-Modified": format_datetime(blob.modified, usegmt=True),
        "ETag": f'"0x{abs(hash(blob.data)) % (1 << 60):X}"',
    }


def _ranged(stored: StoredBlob, header: str | None) -> Response:
    data, size = stored.data, len(stored.data)
    headers = {**_dated(stored), "x-ms-blob-type": "BlockBlob", "Accept-Ranges": "bytes"}
    match = re.match(r"^bytes=(\d+)-(\d*)$", header or "")
    if match is None:
        return Response(
            data, status_code=200, headers=headers, media_type="application/octet-stream"
        )
    start = int(match[1])
    end = min(size - 1, int(match[2])) if match[2] else size - 1
    if start >= size:
        return _error(416, "InvalidRange")
    headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    return Response(
        data[start : end + 1],
        status_code=206,
        headers=headers,
        media_type="application/octet-stream",
    )


def _listing(container: str, blobs: dict[str, StoredBlob], prefix: str) -> str:
    root = ElementTree.Element("EnumerationResults", ContainerName=container)
    ElementTree.SubElement(root, "Prefix").text = prefix
    items = ElementTree.SubElement(root, "Blobs")
    for name in sorted(n for n in blobs if n.startswith(prefix)):
        entry = ElementTree.SubElement(items, "Blob")
        ElementTree.SubElement(entry, "Name").text = name
        props = ElementTree.SubElement(entry, "Properties")
        ElementTree.SubElement(props, "Last-Modified").text = format_datetime(
            blobs[name].modified, usegmt=True
        )
        ElementTree.SubElement(props, "Etag").text = _dated(blobs[name])["ETag"]
        ElementTree.SubElement(props, "Content-Length").text = str(len(blobs[name].data))
        ElementTree.SubElement(props, "BlobType").text = "BlockBlob"
    ElementTree.SubElement(root, "NextMarker")
    return '<?xml version="1.0" encoding="utf-8"?>' + ElementTree.tostring(root, encoding="unicode")


def _error(status: int, code: str) -> Response:
    body = (
        '<?xml version="1.0" encoding="utf-8"?>'
        f"<Error><Code>{code}</Code><Message>{code}</Message></Error>"
    )
    return Response(
        body, status_code=status, media_type="application/xml", headers={"x-ms-error-code": code}
    )
