"""Scale-out: two gateways, two dialers, two brains, two speech services, one store on
PostgreSQL, Redis on; twenty concurrent simulated calls; one replica of each of dialer,
brain, speech and gateway SIGKILLed mid-run.

Every client is given each service's replicas as a list and balances over them
(``round_robin``). Each callee registers its phone on both dialers (a number is
reachable from every replica, as through a carrier), so the call rings wherever the
gateway's ``PlaceCall`` landed; the callee talks to that dialer. The calls run on
both gateways and both dialers; half of them park between two lines, the other half
are talking when the replicas die, so turns are in flight on the brain being killed.

What must hold: a call whose dialer survived finishes with its whole claim and every
line stored once; a call whose dialer died ends ``line_dropped`` (the other dialer
ends it once the dead one's lease ran out) with every line the bot answered stored,
once, and nothing after the kill; every call gets exactly one synthesis (post-call jobs
on Redis streams: a job the dead brain held is taken over after its visibility
timeout); no stored message is duplicated (a turn resent to the surviving brain is
answered once). Text mode: the speech services run the ``instant`` engines and carry
no call (text calls never reach speech), so killing one checks only that nothing
depends on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import secrets
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import pytest

from switchboard import domain
from switchboard.call_leases import LINE_DROPPED
from switchboard.redis_link import open_redis
from switchboard.store_client import StoreClient
from switchboard_cli.launcher import Cluster, ClusterPorts
from switchboard_cli.scenario import LINE_DROPPED as CALLEE_LINE_DROPPED
from switchboard_cli.scenario import Scenario, SimulatedCallee, SimulationResult
from switchboard_testing.redis_server import delete_prefix, redis_settings_for_test
from tests.cluster.harness import FIXED_NOW, stored_syntheses

pytestmark = pytest.mark.cluster

DSN = os.environ.get("SWITCHBOARD_TEST_POSTGRES_DSN") or "postgresql://127.0.0.1:5432/test"
REDIS = redis_settings_for_test()
REPLICAS = {"gateway": 2, "dialer": 2, "brain": 2, "speech": 2}
KILLED = ("dialer-2", "brain-2", "speech-2", "gateway-2")
CALLS = 20
CLAIM = [
    {"name": "incident_datetime", "type": "datetime", "description": "when it happened"},
    {"name": "incident_description", "type": "text", "description": "what happened"},
    {"name": "policyholder_email", "type": "email", "description": "your e-mail address"},
]
LINES = [
    "It happened on the third of March at 10 am.",
    "A tree fell on the fence.",
    "Hold on, let me find my policy papers.",
    "Sorry, it is taking me a moment.",
    "mary at example dot com",
    "goodbye",
]
FULL_CLAIM = {
    "incident_datetime": "2026-03-03T10:00:00-08:00",
    "incident_description": "A tree fell on the fence.",
    "policyholder_email": "mary@example.com",
}
# Busy calls wait before this line until every call is connected, then talk on through
# the kill; quiet calls wait before this one until the kills are done.
BUSY_GATE = 1
QUIET_GATE = 2
TALK_BEFORE_KILL_SEC = 0.3
PARK_TIMEOUT_SEC = 60.0
CALL_LIMIT_SEC = 80.0
# The dead dialer's calls are ended by the other one at most this long after the kill.
LEASE_SEC = "4"


def _drop_schema(schema: str) -> None:
    async def drop() -> None:
        conn = await asyncpg.connect(DSN)
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            await conn.close()

    asyncio.run(drop())


async def _clean_redis() -> None:
    redis = open_redis(REDIS)
    try:
        await delete_prefix(redis, REDIS.key_prefix)
    finally:
        await redis.aclose()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    root = tmp_path_factory.mktemp("replicas")
    schema = f"replicas_{uuid.uuid4().hex[:16]}"
    cluster = Cluster(
        ports=ClusterPorts.free(),
        api_key=secrets.token_urlsafe(16),
        data_dir=root / "data",
        log_dir=root / "logs",
        replicas=REPLICAS,
        env={
            "SWITCHBOARD_CONFIG": str(root / "switchboard.yaml"),  # no file: pure defaults
            "SWITCHBOARD__BRAIN__FIXED_NOW": FIXED_NOW,
            "SWITCHBOARD__LOGGING__LEVEL": "DEBUG",
            "SWITCHBOARD__STORE__BACKEND": "postgres",
            "SWITCHBOARD__STORE__POSTGRES_DSN": DSN,
            "SWITCHBOARD__STORE__POSTGRES_SCHEMA": schema,
            "SWITCHBOARD__STORE__MIGRATE_ON_START": "true",  # one store: nobody races it
            "SWITCHBOARD__REDIS__ENABLED": "true",
            "SWITCHBOARD__REDIS__URL": REDIS.url,
            "SWITCHBOARD__REDIS__KEY_PREFIX": REDIS.key_prefix,
            "SWITCHBOARD__REDIS__VISIBILITY_TIMEOUT_SEC": "3",
            "SWITCHBOARD__REDIS__RELAY_POLL_SEC": "0.2",
            "SWITCHBOARD__BRAIN__POST_CALL__POLL_SEC": "0.2",
            "SWITCHBOARD__DIALER__LEASE_SEC": LEASE_SEC,
            "SWITCHBOARD__DIALER__LEASE_RENEW_SEC": "1",
            "SWITCHBOARD__DIALER__ORPHAN_SWEEP_SEC": "0.5",
            "SWITCHBOARD__SPEECH__STT": "instant",
            "SWITCHBOARD__SPEECH__TTS": "instant",
            # A loaded machine must not make the brain say a filler before an answer:
            # a callee counts a line as stored once the bot answered it.
            "SWITCHBOARD__FEATURES__ANSWER_SOFT_TIMEOUT_SEC": "30",
        },
    )
    try:
        cluster.start()
        try:
            yield cluster
        finally:
            cluster.stop()
    finally:
        _drop_schema(schema)
        asyncio.run(_clean_redis())


@dataclass
class Choreography:
    """Parks every call at its gate, then kills the replicas while half of them talk."""

    cluster: Cluster
    parked: int = 0
    lock: threading.Condition = field(default_factory=threading.Condition)
    talk: threading.Event = field(default_factory=threading.Event)
    killed: threading.Event = field(default_factory=threading.Event)

    def before_line(self, busy: bool) -> Any:
        gate, release = (BUSY_GATE, self.talk) if busy else (QUIET_GATE, self.killed)

        def wait_at_gate(index: int) -> None:
            if index == gate:
                with self.lock:
                    self.parked += 1
                    self.lock.notify_all()
                release.wait(PARK_TIMEOUT_SEC + 30)

        return wait_at_gate

    def run(self) -> None:
        with self.lock:
            every_call_parked = self.lock.wait_for(
                lambda: self.parked == CALLS, timeout=PARK_TIMEOUT_SEC
            )
        self.talk.set()
        try:
            assert every_call_parked, f"only {self.parked} of {CALLS} calls got connected"
            time.sleep(TALK_BEFORE_KILL_SEC)  # the busy calls are mid-turn
            for name in KILLED:
                self.cluster.kill(name)
        finally:
            self.killed.set()


def place_calls(cluster: Cluster) -> list[tuple[str, SimulationResult]]:
    """The twenty calls, each callee in a thread of its own (its own event loop)."""
    choreography = Choreography(cluster)
    # Distinct numbers: a number registers one phone per dialer (the cluster is this
    # module's own, so no other test's call can be resumed).
    numbers = [f"+1415555{n}" for n in random.sample(range(1000, 10000), CALLS)]
    gateways = cluster.gateway_urls
    dialers = cluster.grpc_addresses("dialer")

    def call(index: int) -> tuple[str, SimulationResult]:
        scenario = Scenario.model_validate(
            {"phone_number": numbers[index], "request": {"claim": CLAIM}, "customer": LINES}
        )
        callee = SimulatedCallee(
            scenario,
            gateways[index % 2 :] + gateways[: index % 2],  # POST /call on both gateways
            cluster.api_key,
            dialers,
            before_line=choreography.before_line(busy=index % 4 < 2),
        )
        return scenario.phone_number, asyncio.run(callee.run(limit_sec=CALL_LIMIT_SEC))

    with ThreadPoolExecutor(CALLS + 1) as pool:
        calls = [pool.submit(call, i) for i in range(CALLS)]
        kills = pool.submit(choreography.run)
        kills.result()
        return [c.result() for c in calls]


async def stored_calls(cluster: Cluster, call_ids: list[str]) -> list[domain.Call]:
    store = StoreClient(cluster.grpc_addresses("store")[0])
    try:
        return [await store.get_call(call_id) for call_id in call_ids]
    finally:
        await store.close()


async def synthesis_counts(cluster: Cluster, call_ids: list[str]) -> list[int]:
    address = cluster.grpc_addresses("store")[0]
    found = await asyncio.gather(*(stored_syntheses(address, c) for c in call_ids))
    return [len(s) for s in found]


def human_lines(call: domain.Call) -> list[str]:
    return [m.content for m in call.messages if m.persona is domain.Persona.HUMAN and m.content]


def answered_lines(result: SimulationResult) -> int:
    """How many lines the bot answered: those are stored (a sentence leaves the brain only
    once the caller's words are durable)."""
    answered, said = 0, 0
    for speaker, _text in result.heard:
        if speaker == "caller":
            said += 1
        elif speaker == "bot":
            answered = said
    return answered


def said_lines(result: SimulationResult) -> int:
    return sum(1 for speaker, _ in result.heard if speaker == "caller")


def transcript(call: domain.Call) -> list[tuple[int, str, str, str]]:
    return [(m.seq, m.persona.value, m.turn_id, m.content) for m in call.messages]


def assert_no_duplicate_message(call: domain.Call) -> None:
    seqs = [m.seq for m in call.messages]
    assert len(seqs) == len(set(seqs))
    for persona in (domain.Persona.ASSISTANT, domain.Persona.HUMAN):
        turns = [m.turn_id for m in call.messages if m.persona is persona and m.turn_id]
        assert len(turns) == len(set(turns)), transcript(call)


def test_twenty_calls_survive_losing_one_replica_of_each_service(cluster: Cluster) -> None:
    results = place_calls(cluster)
    dead_dialer, live_dialer = (
        cluster.grpc_addresses("dialer")[1],
        cluster.grpc_addresses("dialer")[0],
    )
    where = Counter(result.dialer for _, result in results)
    assert set(where) == {dead_dialer, live_dialer}, where  # both dialers placed calls
    assert all(result.call for _, result in results)
    call_ids = [str(result.call["call_id"]) for _, result in results]
    assert len(set(call_ids)) == CALLS
    calls = asyncio.run(stored_calls(cluster, call_ids))

    for (_, result), call in zip(results, calls, strict=True):
        why = (call.call_id, call.state_reason, result.heard, transcript(call))
        assert call.state is domain.CallState.ENDED, why
        assert_no_duplicate_message(call)
        if result.dialer == live_dialer:
            assert call.state_reason != LINE_DROPPED, why
            assert call.claim == FULL_CLAIM, why
            assert human_lines(call) == LINES  # each line once, in order
            agent = [m for m in call.messages if m.persona is domain.Persona.ASSISTANT]
            assert len(agent) == len(LINES) + 1  # the greeting, then one answer a line
        else:
            assert result.end_reason == CALLEE_LINE_DROPPED
            assert call.state_reason == LINE_DROPPED
            stored = human_lines(call)
            assert stored == LINES[: len(stored)]  # in order, once, nothing invented
            assert answered_lines(result) <= len(stored) <= said_lines(result)
        assert call.synthesis is not None, call.call_id

    assert asyncio.run(synthesis_counts(cluster, call_ids)) == [1] * CALLS
    # Both brains served calls before one died (their logs name the calls they ran), and
    # the kill hit live calls of the surviving dialer: they moved to the other brain.
    logs = {name: log_records(cluster, name) for name in ("brain", "brain-2", "dialer")}
    for brain in ("brain", "brain-2"):
        assert {r.get("call_id") for r in logs[brain]} & set(call_ids), f"{brain} ran no call"
    moved = {
        r["call_id"]
        for r in logs["dialer"]
        if r.get("stream") == "brain" and r.get("message") == "stream lost, reconnecting"
    }
    assert moved & set(call_ids), "no live call lost its brain"


def log_records(cluster: Cluster, name: str) -> list[dict[str, Any]]:
    """The JSON log records of the process ``name``."""
    assert cluster.log_dir is not None
    text = (cluster.log_dir / f"{name}.log").read_text(errors="replace")
    records = []
    for line in text.splitlines():
        with contextlib.suppress(ValueError):
            record = json.loads(line)
            if isinstance(record, dict):
                records.append(record)
    return records
