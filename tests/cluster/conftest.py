"""Cross-service tests: the five services as real processes on free loopback ports."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import httpx
import pytest

from switchboard.launcher import Cluster, ClusterPorts
from tests.cluster.harness import FIXED_NOW


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    root = tmp_path_factory.mktemp("cluster")
    cluster = Cluster(
        ports=ClusterPorts.free(),
        api_key=secrets.token_urlsafe(16),
        data_dir=root / "data",
        log_dir=root / "logs",
        env={
            "SWITCHBOARD_CONFIG": str(root / "switchboard.yaml"),  # no file: pure defaults
            "SWITCHBOARD__BRAIN__FIXED_NOW": FIXED_NOW,
            "SWITCHBOARD__LOGGING__LEVEL": "DEBUG",
            "SWITCHBOARD__DIALER__RING_TIMEOUT_SEC": "2",
        },
    )
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def api(cluster: Cluster) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {cluster.api_key}"}
    with httpx.Client(base_url=cluster.gateway_url, headers=headers, timeout=10) as client:
        yield client
