"""Internal gRPC auth across the five service processes: with a token or mutual TLS, a
call still works end to end, and whatever reaches a port without them reads nothing.

This test process is a client like the others (the simulated callee, the launcher's
health checks), so it takes the cluster's internal auth while it talks to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from switchboard.config import load_settings
from switchboard.internal_auth import InternalAuth, load_internal_auth, use_internal_auth
from switchboard.store_client import StoreClient
from switchboard.v1 import store_pb2, store_pb2_grpc
from switchboard_cli.launcher import GRPC_SERVICES, Cluster, ClusterPorts
from switchboard_testing.certificates import TestCA
from tests.cluster.harness import FIXED_NOW, simulate, unique_number

pytestmark = pytest.mark.cluster

CLAIM = [
    {"name": "incident_description", "type": "text", "description": "what happened"},
    {"name": "policyholder_email", "type": "email", "description": "your e-mail address"},
]
LINES = ["A pipe burst in the kitchen.", "jane at example dot org", "goodbye"]


@dataclass(frozen=True)
class Secured:
    cluster: Cluster
    auth: InternalAuth


@contextlib.contextmanager
def as_client_of(secured: Secured) -> Iterator[None]:
    previous = use_internal_auth(secured.auth)
    try:
        yield
    finally:
        use_internal_auth(previous)


@contextlib.contextmanager
def secured_cluster(root: Path, auth_env: dict[str, str]) -> Iterator[Secured]:
    auth = load_internal_auth(load_settings(Path("/nonexistent"), environ=auth_env).internal_auth)
    cluster = Cluster(
        ports=ClusterPorts.free(),
        api_key=secrets.token_urlsafe(16),
        data_dir=root / "data",
        log_dir=root / "logs",
        env={
            "SWITCHBOARD_CONFIG": str(root / "switchboard.yaml"),  # no file: pure defaults
            "SWITCHBOARD__BRAIN__FIXED_NOW": FIXED_NOW,
            "SWITCHBOARD__DIALER__RING_TIMEOUT_SEC": "2",
            "SWITCHBOARD__LOGGING__LEVEL": "DEBUG",
            **auth_env,
        },
    )
    secured = Secured(cluster, auth)
    with as_client_of(secured):  # the launcher's health checks
        cluster.start()
    try:
        yield secured
    finally:
        cluster.stop()


@pytest.fixture(scope="module")
def token_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Secured]:
    root = tmp_path_factory.mktemp("token-cluster")
    token_file = root / "internal-token"
    token_file.touch(mode=0o600)
    token_file.write_text(secrets.token_hex(32) + "\n")
    env = {
        "SWITCHBOARD__INTERNAL_AUTH__MODE": "token",
        "SWITCHBOARD__INTERNAL_AUTH__TOKEN_FILE": str(token_file),
    }
    with secured_cluster(root, env) as secured:
        yield secured


@pytest.fixture(scope="module")
def mtls_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Secured]:
    root = tmp_path_factory.mktemp("mtls-cluster")
    files = TestCA(root / "pki").issue("switchboard-internal")
    env = {
        "SWITCHBOARD__INTERNAL_AUTH__MODE": "mtls",
        "SWITCHBOARD__INTERNAL_AUTH__CERT_FILE": str(files.cert),
        "SWITCHBOARD__INTERNAL_AUTH__KEY_FILE": str(files.key),
        "SWITCHBOARD__INTERNAL_AUTH__CA_FILE": str(files.ca),
    }
    with secured_cluster(root, env) as secured:
        yield secured


def completed_call(secured: Secured) -> dict[str, object]:
    with as_client_of(secured):
        result = simulate(
            secured.cluster,
            {"phone_number": unique_number(), "request": {"claim": CLAIM}, "customer": LINES},
        )
    call = result.call
    assert call["state"] == "ended"
    assert call["claim"] == {
        "incident_description": "A pipe burst in the kitchen.",
        "policyholder_email": "jane@example.org",
    }
    return call


def read_call(call_id: str, channel: grpc.Channel) -> grpc.StatusCode:
    stub = store_pb2_grpc.StoreStub(channel)  # type: ignore[no-untyped-call]
    with pytest.raises(grpc.RpcError) as error:
        stub.GetCall(store_pb2.GetCallRequest(call_id=call_id), timeout=5)
    code: grpc.StatusCode = error.value.code()  # type: ignore[attr-defined]
    return code


async def _read_with(secured: Secured, call_id: str) -> str:
    with as_client_of(secured):
        store = StoreClient(secured.cluster.ports.grpc_address("store"))
    try:
        return (await store.get_call(call_id)).call_id
    finally:
        await store.close()


def test_with_the_token_on_a_call_works_end_to_end_and_the_store_refuses_a_tokenless_reader(
    token_cluster: Secured,
) -> None:
    call_id = str(completed_call(token_cluster)["call_id"])
    store = token_cluster.cluster.ports.grpc_address("store")
    with grpc.insecure_channel(store) as channel:
        assert read_call(call_id, channel) == grpc.StatusCode.UNAUTHENTICATED
        listing = store_pb2_grpc.StoreStub(channel).ListCalls  # type: ignore[no-untyped-call]
        with pytest.raises(grpc.RpcError) as error:
            listing(store_pb2.ListCallsRequest(limit=10), timeout=5)
        assert error.value.code() == grpc.StatusCode.UNAUTHENTICATED  # type: ignore[attr-defined]
    assert asyncio.run(_read_with(token_cluster, call_id)) == call_id  # with it: readable


def test_with_the_token_on_every_service_refuses_a_tokenless_call_but_answers_probes(
    token_cluster: Secured,
) -> None:
    for service in GRPC_SERVICES:
        address = token_cluster.cluster.ports.grpc_address(service)
        with grpc.insecure_channel(address) as channel:
            # Kubernetes gRPC probes send no metadata: health stays open.
            health = health_pb2_grpc.HealthStub(channel)  # type: ignore[no-untyped-call]
            reply = health.Check(health_pb2.HealthCheckRequest(service=""), timeout=5)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
            method = f"/switchboard.v1.{service.capitalize()}/Anything"
            with pytest.raises(grpc.RpcError) as error:
                channel.unary_unary(method)(b"", timeout=5)
            assert error.value.code() == grpc.StatusCode.UNAUTHENTICATED, service  # type: ignore[attr-defined]


def test_the_token_never_reaches_a_log(token_cluster: Secured) -> None:
    completed_call(token_cluster)
    log_dir = token_cluster.cluster.log_dir
    assert log_dir is not None
    logs = "".join(path.read_text(errors="replace") for path in log_dir.glob("*.log"))
    assert "service listening" in logs  # the logs are there to search
    assert token_cluster.auth.tokens[0] not in logs


def test_with_mtls_a_call_works_end_to_end_and_a_client_without_a_certificate_is_refused(
    mtls_cluster: Secured,
) -> None:
    call_id = str(completed_call(mtls_cluster)["call_id"])
    store = mtls_cluster.cluster.ports.grpc_address("store")
    tls = mtls_cluster.auth.tls
    assert tls is not None
    with grpc.insecure_channel(store) as plaintext:
        assert read_call(call_id, plaintext) == grpc.StatusCode.UNAVAILABLE
    anonymous = grpc.ssl_channel_credentials(root_certificates=tls.ca)
    with grpc.secure_channel(store, anonymous) as channel:
        assert read_call(call_id, channel) == grpc.StatusCode.UNAVAILABLE
    assert asyncio.run(_read_with(mtls_cluster, call_id)) == call_id
