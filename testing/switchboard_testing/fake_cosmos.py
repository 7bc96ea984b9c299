"""A protocol-accurate fake of Azure Cosmos DB (NoSQL API), for tests (never shipped).

It serves, over HTTPS, the REST calls ``azure.cosmos.aio`` makes for the store: the
account read the client does at start, databases and containers (create, read,
delete), partition key ranges, documents (create, upsert, read, replace, delete),
queries in the SQL subset of :mod:`switchboard_testing.fake_cosmos_sql` with
parameters and continuation tokens, and transactional batches. Like the service it

* checks the master-key signature of every request (``authorization``: HMAC-SHA256 over
  verb, resource type, resource link and ``x-ms-date``) and the request's date: a wrong
  key is 401, a stale date 403;
* keeps documents per logical partition (the ``x-ms-documentdb-partitionkey`` header must
  match the document's key) and refuses a cross-partition query that needs a query plan
  (``TOP``, ``ORDER BY``, ``COUNT``) with 400 / sub-status 1004;
* gives each document an ``_etag`` and answers ``If-Match`` with 412 and
  ``If-None-Match: *`` (create) with 409;
* runs a batch all or nothing: the failing operation's status, 424 for the others,
  HTTP 207.

It has one physical partition (range ``0``), no throughput limits, no 429s, no
indexing policy and strong consistency (the README says what that leaves unverified).
``requests`` records ``(verb, path, partition key or "*")`` for tests that check which
calls a repository operation makes.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import hashlib
import hmac
import itertools
import json
import os
import time
import uuid
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from switchboard_testing.certificates import TestCA
from switchboard_testing.fake_cosmos_sql import QueryError, parse
from switchboard_testing.ports import free_tcp_port

MAX_CLOCK_SKEW_SEC = 15 * 60
MAX_BATCH_OPERATIONS = 100
DEFAULT_PAGE = 100
CROSS_PARTITION_QUERY_NOT_SERVABLE = 1004


class CosmosFault(Exception):
    """A request the service refuses: status, sub-status and message."""

    def __init__(self, status: int, code: str, message: str, substatus: int = 0) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.substatus = substatus


@dataclass
class FakeContainer:
    """One container: its partition key path and its documents per logical partition."""

    id: str
    rid: str
    partition_key_path: str
    properties: dict[str, Any]
    documents: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)

    def key_of(self, document: dict[str, Any]) -> str:
        value: Any = document
        for part in self.partition_key_path.strip("/").split("/"):
            value = value.get(part) if isinstance(value, dict) else None
        return json.dumps([value], ensure_ascii=False)

    def all_documents(self) -> list[dict[str, Any]]:
        return [d for partition in self.documents.values() for d in partition.values()]


@dataclass
class FakeDatabase:
    id: str
    rid: str
    properties: dict[str, Any]
    containers: dict[str, FakeContainer] = field(default_factory=dict)


class FakeCosmos:
    """The fake account: start it, point ``CosmosClient(fake.endpoint, fake.key)`` at it."""

    def __init__(self, directory: Path, key: str | None = None) -> None:
        self.key = key or base64.b64encode(os.urandom(64)).decode()
        self.port = free_tcp_port()
        self.endpoint = f"https://127.0.0.1:{self.port}/"
        self.databases: dict[str, FakeDatabase] = {}
        self.requests: list[tuple[str, str, str]] = []
        self.precondition_failures = 0  # If-Match answered 412 (single writes and batches)
        self._directory = directory
        self._rids = itertools.count(1)
        self._lsn = itertools.count(1)
        self._server: uvicorn.Server | None = None
        self._serving: asyncio.Task[None] | None = None

    async def start(self) -> None:
        certs = TestCA(self._directory).issue("fake-cosmos")
        app = Starlette(
            routes=[Route("/{path:path}", self._route, methods=["GET", "POST", "PUT", "DELETE"])]
        )
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            ssl_certfile=str(certs.cert),
            ssl_keyfile=str(certs.key),
        )
        self._server = uvicorn.Server(config)
        self._serving = asyncio.create_task(self._server.serve(), name="fake-cosmos")
        while not self._server.started:  # uvicorn offers no started event
            if self._serving.done():
                await self._serving  # raises why it could not start
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        if self._server is not None and self._serving is not None:
            self._server.should_exit = True
            await self._serving

    # Inspection helpers for tests.

    def documents(self, database: str, container: str) -> list[dict[str, Any]]:
        return self.databases[database].containers[container].all_documents()

    # The REST surface.

    async def _route(self, request: Request) -> Response:
        path = unquote(request.url.path).strip("/")
        parts = [p for p in path.split("/") if p]
        body = await request.body()
        try:
            self._authorize(request, parts)
            partition = request.headers.get("x-ms-documentdb-partitionkey", "*")
            self.requests.append((request.method, "/" + path, partition))
            status, payload, headers = self._dispatch(request, parts, body)
        except CosmosFault as fault:
            error = {"code": fault.code, "message": str(fault)}
            extra = {"x-ms-substatus": str(fault.substatus)} if fault.substatus else {}
            return self._respond(fault.status, error, extra)
        return self._respond(status, payload, headers)

    def _respond(
        self, status: int, payload: Any, headers: dict[str, str] | None = None
    ) -> Response:
        content = b"" if payload is None else json.dumps(payload, ensure_ascii=False).encode()
        base = {
            "content-type": "application/json",
            "x-ms-request-charge": "1",
            "x-ms-activity-id": str(uuid.uuid4()),
            "x-ms-session-token": f"0:-1#{next(self._lsn)}",
            "x-ms-gatewayversion": "version=2.14.0",
        }
        return Response(content, status, {**base, **(headers or {})})

    def _authorize(self, request: Request, parts: list[str]) -> None:
        header = unquote(request.headers.get("authorization", ""))
        fields = dict(item.split("=", 1) for item in header.split("&") if "=" in item)
        date = request.headers.get("x-ms-date", "")
        if fields.get("type") != "master" or not date:
            raise CosmosFault(
                401, "Unauthorized", "a master-key signature and x-ms-date are needed"
            )
        if len(parts) % 2 == 0:  # an item: dbs/x, dbs/x/colls/y, …
            resource_type = parts[-2] if parts else ""
            link = "/".join(parts)
        else:  # a feed: dbs, dbs/x/colls, dbs/x/colls/y/docs
            resource_type, link = parts[-1], "/".join(parts[:-1])
        text = f"{request.method.lower()}\n{resource_type.lower()}\n{link}\n{date.lower()}\n\n"
        expected = base64.b64encode(
            hmac.new(base64.b64decode(self.key), text.encode(), hashlib.sha256).digest()
        ).decode()
        if not hmac.compare_digest(fields.get("sig", ""), expected):
            raise CosmosFault(
                401,
                "Unauthorized",
                "The input authorization token can't serve the request. The wrong key is "
                "being used or the expected payload is not built as per the protocol. "
                f"Server used: {text!r}",
            )
        try:
            sent = parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError) as exc:
            raise CosmosFault(401, "Unauthorized", "x-ms-date is not an RFC 1123 date") from exc
        if abs(time.time() - sent) > MAX_CLOCK_SKEW_SEC:
            raise CosmosFault(403, "Forbidden", "the request's x-ms-date is too far from now")

    def _dispatch(
        self, request: Request, parts: list[str], body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        verb = request.method
        if not parts:
            return 200, self._account(), {}
        if parts[0] != "dbs":
            raise CosmosFault(404, "NotFound", "no such resource")
        if len(parts) == 1 and verb == "POST":
            return self._create_database(json.loads(body))
        database = self._database(parts[1]) if len(parts) >= 2 else None
        if len(parts) == 2 and database is not None:
            if verb == "GET":
                return 200, database.properties, {"etag": database.properties["_etag"]}
            if verb == "DELETE":
                del self.databases[database.id]
                return 204, None, {}
        if len(parts) == 3 and parts[2] == "colls" and database is not None and verb == "POST":
            return self._create_container(database, json.loads(body))
        if len(parts) >= 4 and database is not None:
            container = database.containers.get(parts[3])
            if container is None:
                raise CosmosFault(404, "NotFound", f"Resource Not Found: container {parts[3]}")
            if len(parts) == 4:
                if verb == "GET":
                    return 200, container.properties, {"etag": container.properties["_etag"]}
                if verb == "DELETE":
                    del database.containers[container.id]
                    return 204, None, {}
            if len(parts) == 5 and parts[4] == "pkranges":
                return self._partition_key_ranges(request, container)
            if len(parts) == 5 and parts[4] == "docs" and verb == "POST":
                return self._documents_post(request, container, body)
            if len(parts) == 6 and parts[4] == "docs":
                return self._document(request, container, parts[5], body)
        raise CosmosFault(404, "NotFound", "Resource Not Found")

    def _account(self) -> dict[str, Any]:
        location = [{"name": "Local", "databaseAccountEndpoint": self.endpoint}]
        return {
            "_self": "",
            "id": "fake",
            "_rid": "fake.documents.azure.com",
            "media": "//media/",
            "addresses": "//addresses/",
            "_dbs": "//dbs/",
            "writableLocations": location,
            "readableLocations": location,
            "enableMultipleWriteLocations": False,
            "userReplicationPolicy": {
                "asyncReplication": False,
                "minReplicaSetSize": 3,
                "maxReplicasetSize": 4,
            },
            "userConsistencyPolicy": {"defaultConsistencyLevel": "Session"},
            "systemReplicationPolicy": {"minReplicaSetSize": 3, "maxReplicasetSize": 4},
            "readPolicy": {"primaryReadCoefficient": 1, "secondaryReadCoefficient": 1},
            "queryEngineConfiguration": json.dumps(
                {"maxSqlQueryInputLength": 262144, "maxJoinsPerSqlQuery": 5}
            ),
        }

    def _system(self, rid: str, self_link: str) -> dict[str, Any]:
        return {
            "_rid": rid,
            "_self": self_link,
            "_etag": f'"{uuid.uuid4()}"',
            "_ts": int(time.time()),
        }

    def _rid(self, size: int) -> str:
        return base64.b64encode(next(self._rids).to_bytes(size, "big")).decode()

    def _database(self, name: str) -> FakeDatabase:
        database = self.databases.get(name)
        if database is None:
            raise CosmosFault(404, "NotFound", f"Resource Not Found: database {name}")
        return database

    def _create_database(self, body: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        name = str(body.get("id", ""))
        if not name:
            raise CosmosFault(400, "BadRequest", "a database needs an id")
        if name in self.databases:
            raise CosmosFault(409, "Conflict", "Resource with specified id or name already exists")
        rid = self._rid(4)
        properties = {"id": name, **self._system(rid, f"dbs/{rid}/"), "_colls": "colls/"}
        self.databases[name] = FakeDatabase(name, rid, properties)
        return 201, properties, {"etag": properties["_etag"]}

    def _create_container(
        self, database: FakeDatabase, body: dict[str, Any]
    ) -> tuple[int, Any, dict[str, str]]:
        name = str(body.get("id", ""))
        paths = (body.get("partitionKey") or {}).get("paths") or []
        if not name or len(paths) != 1:
            raise CosmosFault(400, "BadRequest", "a container needs an id and one partition key")
        if name in database.containers:
            raise CosmosFault(409, "Conflict", "Resource with specified id or name already exists")
        rid = base64.b64decode(database.rid) + next(self._rids).to_bytes(4, "big")
        crid = base64.b64encode(rid).decode()
        properties = {
            **body,
            "partitionKey": {"paths": paths, "kind": "Hash", "version": 2},
            "indexingPolicy": body.get("indexingPolicy")
            or {"indexingMode": "consistent", "automatic": True},
            **self._system(crid, f"dbs/{database.rid}/colls/{crid}/"),
            "_docs": "docs/",
        }
        database.containers[name] = FakeContainer(name, crid, paths[0], properties)
        return 201, properties, {"etag": properties["_etag"]}

    def _partition_key_ranges(
        self, request: Request, container: FakeContainer
    ) -> tuple[int, Any, dict[str, str]]:
        etag = f'"{container.rid}-ranges"'
        if request.headers.get("if-none-match") == etag:
            return 304, None, {"etag": etag}
        ranges = [
            {
                "id": "0",
                "_rid": container.rid,
                "minInclusive": "",
                "maxExclusive": "FF",
                "ridPrefix": 0,
                "throughputFraction": 1.0,
                "status": "online",
                "parents": [],
            }
        ]
        payload = {"_rid": container.rid, "PartitionKeyRanges": ranges, "_count": 1}
        return 200, payload, {"etag": etag, "x-ms-item-count": "1"}

    # Documents.

    def _partition_header(self, request: Request) -> str | None:
        raw = request.headers.get("x-ms-documentdb-partitionkey")
        if raw is None:
            return None
        return json.dumps(json.loads(raw), ensure_ascii=False)

    def _stamped(self, container: FakeContainer, document: dict[str, Any]) -> dict[str, Any]:
        rid = base64.b64encode(base64.b64decode(container.rid) + os.urandom(8)).decode()
        stored = copy.deepcopy(document)
        stored.update(self._system(rid, f"{container.properties['_self']}docs/{rid}/"))
        stored["_attachments"] = "attachments/"
        return stored

    def _write(
        self,
        container: FakeContainer,
        operation: str,
        key: str,
        document: dict[str, Any] | None,
        item_id: str | None,
        if_match: str | None,
    ) -> tuple[int, dict[str, Any] | None, dict[str, Any] | None]:
        """Plans one write: its status, its response body and the partition's new state of
        the item (None: deleted). Raises CosmosFault; changes nothing."""
        partition = container.documents.get(key, {})
        if document is not None:
            doc_id = document.get("id")
            if not isinstance(doc_id, str) or not doc_id or any(c in doc_id for c in "/\\?#"):
                raise CosmosFault(400, "BadRequest", "The input content is invalid: bad id")
            if container.key_of(document) != key:
                raise CosmosFault(
                    400,
                    "BadRequest",
                    "PartitionKey extracted from document doesn't match the one specified in "
                    "the header",
                )
            item_id = item_id or doc_id
            if item_id != doc_id:
                raise CosmosFault(400, "BadRequest", "the id in the body is not the one replaced")
        assert item_id is not None
        existing = partition.get(item_id)
        if operation == "create" and existing is not None:
            raise CosmosFault(409, "Conflict", "Entity with the specified id already exists")
        if operation in ("replace", "delete", "read") and existing is None:
            raise CosmosFault(404, "NotFound", "Entity with the specified id does not exist")
        if if_match is not None and (existing is None or existing["_etag"] != if_match):
            self.precondition_failures += 1
            raise CosmosFault(
                412, "PreconditionFailed", "Operation cannot be performed because one of the "
                "specified precondition is not met."
            )  # fmt: skip
        if operation == "read":
            return 200, existing, existing
        if operation == "delete":
            return 204, None, None
        assert document is not None
        stored = self._stamped(container, document)
        return (201 if existing is None else 200), stored, stored

    def _apply(
        self, container: FakeContainer, key: str, item_id: str, state: dict[str, Any] | None
    ) -> None:
        partition = container.documents.setdefault(key, {})
        if state is None:
            partition.pop(item_id, None)
        else:
            partition[item_id] = state

    def _document(
        self, request: Request, container: FakeContainer, item_id: str, body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        key = self._partition_header(request)
        if key is None:
            raise CosmosFault(400, "BadRequest", "x-ms-documentdb-partitionkey is required")
        operation = {"GET": "read", "PUT": "replace", "DELETE": "delete"}[request.method]
        document = json.loads(body) if operation == "replace" else None
        if_match = request.headers.get("if-match")
        if operation == "read" and request.headers.get("if-none-match") not in (None, "*"):
            existing = container.documents.get(key, {}).get(item_id)
            if existing is not None and existing["_etag"] == request.headers["if-none-match"]:
                return 304, None, {"etag": existing["_etag"]}
        status, payload, state = self._write(container, operation, key, document, item_id, if_match)
        if operation != "read":
            self._apply(container, key, item_id, state)
        headers = {"etag": payload["_etag"]} if payload else {}
        return status, payload, headers

    def _documents_post(
        self, request: Request, container: FakeContainer, body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        headers = request.headers
        if headers.get("x-ms-cosmos-is-batch-request", "").lower() == "true":
            return self._batch(request, container, json.loads(body))
        if headers.get("x-ms-documentdb-isquery", "").lower() == "true":
            return self._query(request, container, json.loads(body))
        key = self._partition_header(request)
        if key is None:
            raise CosmosFault(400, "BadRequest", "x-ms-documentdb-partitionkey is required")
        document = json.loads(body)
        upsert = headers.get("x-ms-documentdb-is-upsert", "").lower() == "true"
        status, payload, state = self._write(
            container, "upsert" if upsert else "create", key, document, None, None
        )
        assert payload is not None
        self._apply(container, key, payload["id"], state)
        return status, payload, {"etag": payload["_etag"]}

    def _batch(
        self, request: Request, container: FakeContainer, operations: list[dict[str, Any]]
    ) -> tuple[int, Any, dict[str, str]]:
        key = self._partition_header(request)
        if key is None:
            raise CosmosFault(400, "BadRequest", "a batch names its partition key")
        if not operations or len(operations) > MAX_BATCH_OPERATIONS:
            raise CosmosFault(400, "BadRequest", "a batch has 1 to 100 operations")
        # Plan every operation against the partition as the earlier ones leave it.
        view = copy.copy(container.documents.get(key, {}))
        planned: list[tuple[str, dict[str, Any] | None]] = []
        results: list[dict[str, Any]] = []
        failed_at: int | None = None
        shadow = FakeContainer(container.id, container.rid, container.partition_key_path,
                               container.properties, {key: view})  # fmt: skip
        for index, op in enumerate(operations):
            kind = str(op.get("operationType", "")).lower()
            document = op.get("resourceBody")
            try:
                status, payload, state = self._write(
                    shadow, kind, key, document, op.get("id"), op.get("ifMatch")
                )
            except CosmosFault as fault:
                failed_at = index
                results.append({"statusCode": fault.status, "requestCharge": 1})
                break
            item_id = payload["id"] if payload is not None else str(op.get("id"))
            if kind != "read":
                if state is None:
                    view.pop(item_id, None)
                else:
                    view[item_id] = state
                planned.append((item_id, state))
            result: dict[str, Any] = {"statusCode": status, "requestCharge": 1}
            if payload is not None:
                result["eTag"] = payload["_etag"]
                result["resourceBody"] = payload
            results.append(result)
        if failed_at is not None:
            failed = results[failed_at]
            answers = [
                failed if i == failed_at else {"statusCode": 424, "requestCharge": 0}
                for i in range(len(operations))
            ]
            return 207, answers, {}
        container.documents[key] = view
        return 200, results, {}

    def _query(
        self, request: Request, container: FakeContainer, body: dict[str, Any]
    ) -> tuple[int, Any, dict[str, str]]:
        try:
            query = parse(str(body.get("query", "")), body.get("parameters"))
        except QueryError as exc:
            raise CosmosFault(400, "BadRequest", f"Syntax error: {exc}") from exc
        key = self._partition_header(request)
        targets_range = "x-ms-documentdb-partitionkeyrangeid" in request.headers
        if key is None:
            if not targets_range and query.needs_cross_partition_plan:
                raise CosmosFault(
                    400,
                    "BadRequest",
                    "The provided cross partition query can not be directly served by the "
                    "gateway. This is a first chance (internal) exception that all newer "
                    "clients will know how to handle gracefully.",
                    CROSS_PARTITION_QUERY_NOT_SERVABLE,
                )
            if (
                request.headers.get("x-ms-documentdb-query-enablecrosspartition", "").lower()
                != "true"
                and not targets_range
                and len(container.documents) > 1
            ):
                raise CosmosFault(
                    400,
                    "BadRequest",
                    "Cross partition query is required but disabled. Please set "
                    "x-ms-documentdb-query-enablecrosspartition to true",
                )
            documents = container.all_documents()
        else:
            documents = list(container.documents.get(key, {}).values())
        try:
            rows = query.run(documents)
        except QueryError as exc:
            raise CosmosFault(400, "BadRequest", str(exc)) from exc
        start = int(request.headers.get("x-ms-continuation") or 0)
        size = int(request.headers.get("x-ms-max-item-count") or DEFAULT_PAGE)
        size = DEFAULT_PAGE if size <= 0 else size
        page = rows[start : start + size]
        headers = {"x-ms-item-count": str(len(page))}
        if start + size < len(rows):
            headers["x-ms-continuation"] = str(start + size)
        return 200, {"_rid": container.rid, "Documents": page, "_count": len(page)}, headers
