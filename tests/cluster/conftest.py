"""Cross-service tests: the five services as real processes on free loopback ports."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from switchboard_cli.launcher import Cluster
from tests.cluster.harness import started_cluster
from tests.cluster.llama_server import MODEL_ALIAS, llama_server, why_unavailable


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    root = tmp_path_factory.mktemp("cluster")
    with started_cluster(
        root,
        {
            "SWITCHBOARD__DIALER__RING_TIMEOUT_SEC": "2",
        },
    ) as cluster:
        yield cluster


@pytest.fixture
def api(cluster: Cluster) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {cluster.api_key}"}
    with httpx.Client(base_url=cluster.gateway_url, headers=headers, timeout=10) as client:
        yield client


@pytest.fixture(scope="session")
def llama_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A llama.cpp OpenAI-compatible server with SmolLM2 (skips when not installed)."""
    reason = why_unavailable()
    if reason:
        pytest.skip(reason)
    with llama_server(tmp_path_factory.mktemp("llama") / "server.log") as base_url:
        yield base_url


@pytest.fixture(scope="session")
def llm_cluster(tmp_path_factory: pytest.TempPathFactory, llama_endpoint: str) -> Iterator[Cluster]:
    """The five services with the brain on the llm policy, talking to the llama.cpp server."""
    root = tmp_path_factory.mktemp("llm-cluster")
    with started_cluster(
        root,
        {
            "SWITCHBOARD__DIALER__RING_TIMEOUT_SEC": "2",
            "SWITCHBOARD__BRAIN__POLICY": "llm",
            "SWITCHBOARD__BRAIN__LLM__ENDPOINT": llama_endpoint,
            "SWITCHBOARD__BRAIN__LLM__FAST_MODEL": MODEL_ALIAS,
            # llama.cpp: JSON schema as a grammar; tool rounds cannot stream there.
            "SWITCHBOARD__BRAIN__LLM__JSON_FORMAT": "json_object",
            "SWITCHBOARD__BRAIN__LLM__STREAM_TOOLS": "false",
            "SWITCHBOARD__BRAIN__LLM__MAX_TOKENS": "48",
            "SWITCHBOARD__BRAIN__LLM__TOOL_ROUNDS": "2",
            "SWITCHBOARD__BRAIN__LLM__SUMMARY_RETRIES": "1",
            "SWITCHBOARD__BRAIN__LLM__SUMMARY_TIMEOUT_SEC": "25",
            # Two shared cores: give the model time before the fallbacks take over.
            "SWITCHBOARD__FEATURES__ANSWER_SOFT_TIMEOUT_SEC": "15",
            "SWITCHBOARD__FEATURES__ANSWER_HARD_TIMEOUT_SEC": "150",
            "SWITCHBOARD__BRAIN__LLM__REQUEST_TIMEOUT_SEC": "150",
            # After the callee's last line: one silence prompt ends the call quickly.
            "SWITCHBOARD__FEATURES__PHONE_SILENCE_TIMEOUT_SEC": "5",
            "SWITCHBOARD__FEATURES__RECOGNITION_RETRY_MAX": "1",
        },
    ) as cluster:
        yield cluster


@pytest.fixture
def llm_api(llm_cluster: Cluster) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {llm_cluster.api_key}"}
    with httpx.Client(base_url=llm_cluster.gateway_url, headers=headers, timeout=30) as client:
        yield client
