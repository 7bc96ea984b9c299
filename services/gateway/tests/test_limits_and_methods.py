"""Rate limits per key and per address on POST /call and the pages; 405 with Allow."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from switchboard.config import Settings
from switchboard_gateway.app import create_app
from switchboard_gateway.memory_backend import InMemoryCallBackend
from switchboard_testing.clock import VirtualClock

API_KEY = "test-key-0123456789"
OTHER_KEY = "second-key-0123456789"


def limited(clock: VirtualClock, backend: InMemoryCallBackend, **limits: int) -> TestClient:
    settings = Settings.model_validate(
        {"gateway": {"api_keys": [API_KEY, OTHER_KEY], "rate_limits": limits}}
    )
    return TestClient(
        create_app(settings, backend, clock=clock.time), raise_server_exceptions=False
    )


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_a_key_over_its_call_rate_gets_429_with_retry_after_and_nothing_is_dialled(
    payload: dict[str, Any],
) -> None:
    clock, backend = VirtualClock(), InMemoryCallBackend()
    client = limited(clock, backend, calls_per_key=2, calls_per_address=100)
    for _ in range(2):
        assert client.post("/call", json=payload, headers=bearer(API_KEY)).status_code == 201

    refused = client.post("/call", json=payload, headers=bearer(API_KEY))

    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "30"  # 2 a minute: one token every 30 s
    assert "too many requests" in refused.json()["error"]["message"]
    assert len(backend.placed) == 2
    # Another key is not held back by the first one's limit...
    assert client.post("/call", json=payload, headers=bearer(OTHER_KEY)).status_code == 201
    # ...and the first key may call again once a token has refilled.
    clock.advance(30)
    assert client.post("/call", json=payload, headers=bearer(API_KEY)).status_code == 201


def test_an_address_over_its_rate_is_refused_whatever_key_it_sends(
    payload: dict[str, Any],
) -> None:
    clock, backend = VirtualClock(), InMemoryCallBackend()
    client = limited(clock, backend, calls_per_key=100, calls_per_address=2)
    assert client.post("/call", json=payload, headers=bearer(API_KEY)).status_code == 201
    assert client.post("/call", json=payload, headers=bearer(OTHER_KEY)).status_code == 201
    assert client.post("/call", json=payload, headers=bearer("guess")).status_code == 429
    assert len(backend.placed) == 2


def test_pages_have_their_own_limit_and_reading_the_api_is_not_limited() -> None:
    clock, backend = VirtualClock(), InMemoryCallBackend()
    client = limited(clock, backend, pages_per_key=1, pages_per_address=100)
    assert client.get("/report", headers=bearer(API_KEY)).status_code == 200
    assert client.get("/report", headers=bearer(API_KEY)).status_code == 429
    assert client.get("/docs", headers=bearer(API_KEY)).status_code == 429
    for _ in range(5):
        assert client.get("/call", headers=bearer(API_KEY)).status_code == 200


def test_a_zero_limit_means_no_limit(payload: dict[str, Any]) -> None:
    clock, backend = VirtualClock(), InMemoryCallBackend()
    client = limited(clock, backend, calls_per_key=0, calls_per_address=0)
    for _ in range(5):
        assert client.post("/call", json=payload, headers=bearer(API_KEY)).status_code == 201


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "/call", "GET, POST"),
        ("PUT", "/call/6f1c1f3e-2b7a-4d8e-9c1a-0b2d3e4f5a6b", "GET"),
        ("POST", "/report", "GET"),
        ("PATCH", "/health/liveness", "GET"),
        ("TRACE", "/docs", "GET"),
    ],
)
def test_a_method_the_path_does_not_take_is_405_listing_every_method_it_does(
    client: TestClient, method: str, path: str, allow: str
) -> None:
    response = client.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allow
    assert "does not accept that method" in response.json()["error"]["message"]


def test_an_unknown_path_is_still_404(client: TestClient) -> None:
    assert client.request("DELETE", "/nowhere").status_code == 404


def test_a_query_parameter_the_api_does_not_take_is_a_422_naming_the_ones_it_does(
    client: TestClient,
) -> None:
    response = client.get("/call?phone=%2B14155550123")
    assert response.status_code == 422
    assert response.json()["error"]["message"] == (
        "unknown query parameter 'phone'; it takes phone_number, state"
    )
    assert client.get("/call?phone_number=%2B14155550123").status_code == 200


def test_a_query_parameter_given_twice_is_a_422_not_a_silent_pick_of_the_last(
    client: TestClient,
) -> None:
    response = client.get("/call?phone_number=%2B14155550123&phone_number=%2B14155550124")
    assert response.status_code == 422
    assert response.json()["error"]["message"] == (
        "query parameter 'phone_number' is given more than once"
    )
