"""Bad input over REST: always a 4xx with an actionable message, and the store unchanged."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from switchboard_cli.launcher import Cluster
from tests.cluster.harness import stored_call_count

GOOD: dict[str, Any] = {
    "bot_company": "Contoso",
    "bot_name": "Joe",
    "phone_number": "+14155550100",
    "agent_phone_number": "+14155550199",
    "task": "File a claim.",
    "claim": [{"name": "incident_date", "type": "datetime", "description": "when"}],
    "lang": "en-US",
}


def with_(**changes: Any) -> dict[str, Any]:
    return {**GOOD, **changes}


BAD_BODIES = {
    "phone number not E.164": (with_(phone_number="4155550100"), "phone_number"),
    "agent number not E.164": (with_(agent_phone_number="+1"), "agent_phone_number"),
    "unknown claim type": (
        with_(claim=[{"name": "x", "type": "colour", "description": ""}]),
        "type",
    ),
    "duplicate field names": (
        with_(claim=[{"name": "x", "type": "text"}, {"name": "x", "type": "email"}]),
        "x",
    ),
    "field name not an identifier": (
        with_(claim=[{"name": "Incident Date", "type": "text"}]),
        "identifier",
    ),
    "more than 50 claim fields": (
        with_(claim=[{"name": f"f{i}", "type": "text"} for i in range(51)]),
        "50",
    ),
    "prosody rate out of range": (with_(prosody_rate=3), "prosody_rate"),
    "unknown timezone": (with_(timezone="Mars/Olympus"), "timezone"),
    "bot name missing": ({k: v for k, v in GOOD.items() if k != "bot_name"}, "bot_name"),
}


@pytest.mark.parametrize("case", list(BAD_BODIES), ids=list(BAD_BODIES))
def test_a_bad_call_request_is_a_422_naming_the_field_and_stores_nothing(
    cluster: Cluster, api: httpx.Client, case: str
) -> None:
    body, named = BAD_BODIES[case]
    before = stored_call_count(cluster)
    reply = api.post("/call", json=body)
    assert reply.status_code == 422, reply.text
    message = reply.json()["error"]["message"] + " ".join(reply.json()["error"].get("details", []))
    assert named in message
    assert stored_call_count(cluster) == before


def test_an_oversize_body_is_a_413_and_stores_nothing(cluster: Cluster, api: httpx.Client) -> None:
    before = stored_call_count(cluster)
    reply = api.post("/call", json=with_(task="x" * 70_000))
    assert reply.status_code == 413
    assert "64" in reply.json()["error"]["message"]
    assert stored_call_count(cluster) == before


def test_a_body_that_is_not_json_is_refused_with_a_message(
    cluster: Cluster, api: httpx.Client
) -> None:
    before = stored_call_count(cluster)
    reply = api.post(
        "/call", content=b"phone_number=+14155550100", headers={"Content-Type": "text/plain"}
    )
    assert reply.status_code == 415
    assert reply.json()["error"]["message"]
    broken = api.post("/call", content=b"{not json", headers={"Content-Type": "application/json"})
    assert 400 <= broken.status_code < 500
    assert stored_call_count(cluster) == before


@pytest.mark.parametrize("path", ["/call/not-a-uuid", "/report/12345", "/call/%00"])
def test_a_malformed_call_id_is_a_4xx_with_a_message(api: httpx.Client, path: str) -> None:
    reply = api.get(path)
    assert 400 <= reply.status_code < 500
    assert reply.status_code != 404 or "call" in reply.text.lower()


def test_an_unknown_call_id_is_a_404(api: httpx.Client) -> None:
    reply = api.get("/call/7f1f0c2e-3a43-4c8e-9b7e-0d7c6b1d2a11")
    assert reply.status_code == 404
    assert reply.json()["error"]["message"]


def test_listing_with_a_bad_number_is_a_422(api: httpx.Client) -> None:
    assert api.get("/call", params={"phone_number": "12"}).status_code == 422
    assert api.get("/report", params={"phone_number": "12"}).status_code == 422


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/call"), ("GET", "/call"), ("GET", "/call/x"), ("GET", "/report"), ("GET", "/docs")],
)
def test_every_endpoint_but_health_needs_a_valid_api_key(
    cluster: Cluster, method: str, path: str
) -> None:
    before = stored_call_count(cluster)
    with httpx.Client(base_url=cluster.gateway_url, timeout=10) as anonymous:
        missing = anonymous.request(method, path, json=GOOD if method == "POST" else None)
        wrong = anonymous.request(
            method,
            path,
            json=GOOD if method == "POST" else None,
            headers={"Authorization": "Bearer wrong-key"},
        )
    assert missing.status_code == 401
    assert wrong.status_code in (401, 403)
    assert stored_call_count(cluster) == before


def test_health_needs_no_key_and_readiness_checks_every_service(cluster: Cluster) -> None:
    with httpx.Client(base_url=cluster.gateway_url, timeout=10) as anonymous:
        assert anonymous.get("/health/liveness").status_code == 200
        ready = anonymous.get("/health/readiness")
    assert ready.status_code == 200
    checks = {c["id"]: c["status"] for c in ready.json()["checks"]}
    assert set(checks) >= {"dialer", "speech", "brain", "store"}
    assert set(checks.values()) == {"ok"}
