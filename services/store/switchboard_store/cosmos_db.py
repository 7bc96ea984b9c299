"""Azure Cosmos DB from asyncio: the client, the store's containers and its layout versions.

The layout (README "The Cosmos DB store" says why each key):

* ``calls``, partitioned by ``/call_id``: per call one ``call`` document (state, claim,
  reminders, counters) and its ``message`` and ``event`` items. Everything a change to a
  call writes is in one logical partition, so it commits as one transactional batch,
  guarded by the call document's ETag; a call by id is a point read or a one-partition query.
* ``calls_by_number``, partitioned by ``/phone_number``: one small immutable entry per call
  (id, creation key, request hash). The callback-window lookup and a number's listing read
  one partition, newest first, instead of fanning out to every partition of ``calls``.
* ``jobs``, partitioned by ``/job_id``: the post-call outbox, claimed with ETags.
* ``documents``, partitioned by ``/id``: knowledge-base chunks with their embeddings.
* ``meta``, partitioned by ``/kind``: applied layout versions and the knowledge base's
  dimension and generation.
* ``idempotency_keys``, partitioned by ``/key_id`` (a hash of client and key, also the
  item's id): one item per ``Idempotency-Key`` of ``POST /call``, claimed by a create
  (409 for every racer but one), read and forgotten with point operations. Items carry a
  ``ttl`` so the service purges expired keys; the store checks expiry itself.

A call's dialer lease and webhook live on its call document (the writes that need them
are changes to the call anyway); the orphan sweep finds leased, unfinished calls with a
cross-partition query of ``calls`` (see :mod:`cosmos_leases`).

Layout versions are applied like SQL migrations: each step is idempotent (create a
container if missing, upsert derived entries) and is recorded by creating its
``schema_version`` document, so of several migrators racing exactly one records each
version. Version 1 is the containers a call needs; version 2 adds the number index and
builds it from the stored calls; version 3 adds ``idempotency_keys`` (call documents
written before it read as unleased and without a webhook: :func:`cosmos_calls.current`).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from azure.core.exceptions import AzureError
from azure.cosmos import PartitionKey, exceptions
from azure.cosmos.aio import ContainerProxy, CosmosClient, DatabaseProxy

from switchboard.config import StoreSettings
from switchboard.errors import Unavailable

log = logging.getLogger(__name__)

CALLS = "calls"
CALLS_BY_NUMBER = "calls_by_number"
JOBS = "jobs"
DOCUMENTS = "documents"
META = "meta"
IDEMPOTENCY_KEYS = "idempotency_keys"
SCHEMA_VERSION = "schema_version"


@dataclass(frozen=True)
class CosmosOptions:
    """Where the account is and which database holds the store's containers."""

    endpoint: str
    key: str
    database: str = "switchboard"

    @classmethod
    def from_settings(cls, settings: StoreSettings) -> CosmosOptions:
        section = settings.cosmos
        if not section.endpoint or not section.key:
            raise ValueError(
                "store.backend cosmos needs store.cosmos.endpoint and the account key in "
                "SWITCHBOARD__STORE__COSMOS__KEY"
            )
        return cls(endpoint=section.endpoint, key=section.key, database=section.database)


@dataclass(frozen=True)
class Containers:
    """The store's containers in one database."""

    database: DatabaseProxy
    calls: ContainerProxy
    calls_by_number: ContainerProxy
    jobs: ContainerProxy
    documents: ContainerProxy
    meta: ContainerProxy
    idempotency_keys: ContainerProxy

    @classmethod
    def of(cls, database: DatabaseProxy) -> Containers:
        return cls(
            database,
            *(
                database.get_container_client(name)
                for name in (CALLS, CALLS_BY_NUMBER, JOBS, DOCUMENTS, META, IDEMPOTENCY_KEYS)
            ),
        )


@contextmanager
def service_errors() -> Iterator[None]:
    """Service errors the caller may retry (throttling, timeouts, outages) as Unavailable;
    the answers the store handles itself (404, 409, 412) pass through."""
    try:
        yield
    except (
        exceptions.CosmosResourceNotFoundError,
        exceptions.CosmosResourceExistsError,
        exceptions.CosmosAccessConditionFailedError,
    ):
        raise
    except exceptions.CosmosHttpResponseError as exc:
        raise Unavailable(f"Cosmos DB answered {exc.status_code}; try again") from exc
    except AzureError as exc:  # no answer: connection refused, reset, timed out
        raise Unavailable(f"Cosmos DB unreachable ({type(exc).__name__}); try again") from exc


async def connect(options: CosmosOptions) -> CosmosClient:
    """An open client: it has read the account (regions, consistency) already."""
    client = CosmosClient(options.endpoint, credential=options.key)
    try:
        await client.__aenter__()
    except BaseException:
        await client.close()  # the SDK leaves its HTTP session open when the first read fails
        raise
    return client


def request_hash(initiate_json: str) -> str:
    """What the number index keeps of a call's request: enough to match it, not the PII."""
    return hashlib.sha256(initiate_json.encode()).hexdigest()


async def _create_containers(
    database: DatabaseProxy, specs: dict[str, str], **options: Any
) -> None:
    for name, path in specs.items():
        try:
            await database.create_container_if_not_exists(name, PartitionKey(path=path), **options)
        except exceptions.CosmosResourceExistsError:
            pass  # a concurrent migrator created it between the SDK's read and create


async def create_database(client: CosmosClient, name: str) -> DatabaseProxy:
    """The database, created if missing (by this migrator or a concurrent one)."""
    try:
        return await client.create_database_if_not_exists(name)
    except exceptions.CosmosResourceExistsError:
        return client.get_database_client(name)


async def _layout_1(database: DatabaseProxy) -> None:
    await _create_containers(
        database, {CALLS: "/call_id", JOBS: "/job_id", DOCUMENTS: "/id", META: "/kind"}
    )


async def _layout_2(database: DatabaseProxy) -> None:
    await _create_containers(database, {CALLS_BY_NUMBER: "/phone_number"})
    containers = Containers.of(database)
    # Built from the calls (a cross-partition scan, once); entries are upserts, so a
    # second migrator racing this one writes the same entries.
    async for call in containers.calls.query_items(
        "SELECT c.call_id, c.phone_number, c.created_key, c.initiate_json FROM c"
        " WHERE c.type = 'call'",
    ):
        if call["phone_number"]:
            await containers.calls_by_number.upsert_item(number_entry(call))


def number_entry(call: dict[str, Any]) -> dict[str, Any]:
    """The ``calls_by_number`` entry of a call document."""
    return {
        "id": call["call_id"],
        "phone_number": call["phone_number"],
        "call_id": call["call_id"],
        "created_key": call["created_key"],
        "request_hash": request_hash(call["initiate_json"]),
    }


async def _layout_3(database: DatabaseProxy) -> None:
    # default_ttl -1: items live until their own ``ttl`` (an expired idempotency key).
    await _create_containers(database, {IDEMPOTENCY_KEYS: "/key_id"}, default_ttl=-1)


LAYOUTS: list[tuple[int, str, Callable[[DatabaseProxy], Awaitable[None]]]] = [
    (1, "calls_jobs_documents", _layout_1),
    (2, "calls_by_number", _layout_2),
    (3, "idempotency_keys", _layout_3),
]


def latest_version() -> int:
    return LAYOUTS[-1][0]


async def recorded_versions(database: DatabaseProxy) -> list[int]:
    """The layout versions recorded as applied, in order; [] for an empty database."""
    try:
        found = [
            int(doc["version"])
            async for doc in database.get_container_client(META).query_items(
                "SELECT c.version FROM c", partition_key=SCHEMA_VERSION
            )
        ]
    except exceptions.CosmosResourceNotFoundError:
        return []
    return sorted(found)


async def apply_layouts(database: DatabaseProxy, upto: int | None = None) -> list[int]:
    """Applies the layout versions not yet recorded (up to ``upto``); returns those this
    migrator recorded (a concurrent one may record some of the same steps first)."""
    applied: list[int] = []
    done = set(await recorded_versions(database))
    for version, name, step in LAYOUTS:
        if (upto is not None and version > upto) or version in done:
            continue
        await step(database)
        record = {
            "id": f"v{version:04d}",
            "kind": SCHEMA_VERSION,
            "version": version,
            "name": name,
            "applied_at": datetime.now(UTC).isoformat(),
        }
        try:
            await database.get_container_client(META).create_item(record)
        except exceptions.CosmosResourceExistsError:
            continue  # another migrator recorded it while this one ran the same step
        log.info("schema migrated", extra={"version": version, "migration": name})
        applied.append(version)
    return applied


async def migrate(options: CosmosOptions, upto: int | None = None) -> list[int]:
    """Creates the database if missing and applies the pending layout versions."""
    client = await connect(options)
    try:
        return await apply_layouts(await create_database(client, options.database), upto)
    finally:
        await client.close()


async def check_current(database: DatabaseProxy) -> None:
    """Raises RuntimeError when the layout is behind (or ahead of) this release."""
    versions = await recorded_versions(database)
    found = versions[-1] if versions else 0
    wanted = latest_version()
    if found < wanted:
        raise RuntimeError(
            f"the Cosmos DB database is at layout version {found}, this store needs {wanted}: "
            "run `switchboard migrate` (or set store.migrate_on_start)"
        )
    if found > wanted:
        raise RuntimeError(
            f"the Cosmos DB database is at layout version {found}, newer than this release "
            f"knows ({wanted}); deploy the newer store"
        )
