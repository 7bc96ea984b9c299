"""Backend errors become the right status, and nothing a caller sends reaches a 500."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient

from switchboard.domain import Call
from switchboard.errors import (
    DeadlineExceeded,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    Unavailable,
)
from switchboard_gateway.backend import DialTimeout
from switchboard_gateway.memory_backend import InMemoryCallBackend


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (InvalidArgument("phone_number is on the blocklist"), 422),
        (NotFound("no such number"), 404),
        (FailedPrecondition("the number is already in a call"), 409),
    ],
)
def test_a_domain_error_from_the_dialer_keeps_its_message_and_maps_to_a_status(
    client: TestClient,
    backend: InMemoryCallBackend,
    payload: dict[str, Any],
    error: Exception,
    status: int,
) -> None:
    backend.fail_with = error
    response = client.post("/call", json=payload)
    assert response.status_code == status
    assert response.json()["error"]["message"] == str(error)


@pytest.mark.parametrize(
    "error",
    [Unavailable("failed to connect to all addresses; 10.0.0.7:50051"), DeadlineExceeded("slow")],
)
def test_an_unreachable_service_is_a_503_that_reveals_no_internals(
    client: TestClient, backend: InMemoryCallBackend, error: Exception
) -> None:
    backend.fail_with = error
    response = client.get("/call")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "2"
    message = response.json()["error"]["message"]
    assert "unavailable" in message and "10.0.0.7" not in message


def test_a_dial_timeout_tells_the_caller_the_call_may_still_be_placed(
    client: TestClient, backend: InMemoryCallBackend, payload: dict[str, Any]
) -> None:
    backend.fail_with = DialTimeout("the dialer did not confirm the call in time")
    response = client.post("/call", json=payload)
    assert response.status_code == 503
    assert "did not confirm" in response.json()["error"]["message"]


def test_a_bug_is_a_500_envelope_without_details(
    client: TestClient, backend: InMemoryCallBackend, caplog: pytest.LogCaptureFixture
) -> None:
    backend.fail_with = RuntimeError("secret internals")
    with caplog.at_level(logging.ERROR):
        response = client.get("/call")
    assert response.status_code == 500
    assert response.json() == {
        "error": {"message": "internal error; it has been logged", "details": []}
    }
    assert "unhandled error" in caplog.messages


def test_a_broken_readiness_check_is_reported_as_failed(
    anonymous: TestClient, backend: InMemoryCallBackend
) -> None:
    backend.healthy = {}  # every lookup raises KeyError
    response = anonymous.get("/health/readiness")
    assert response.status_code == 503
    assert response.json()["status"] == "fail"


HOSTILE_BODIES: list[Any] = [
    {"claim": [{"name": "a", "type": "text"}] * 60},
    {"bot_company": {"$gt": ""}},
    {"bot_name": None},
    {"phone_number": 14155550123},
    {"phone_number": "+" + "9" * 5000},
    {"phone_number": "+1\u0000415"},
    {"lang": {"default_short_code": "en-US", "availables": "all"}},
    {"lang": {"default_short_code": "en-US", "availables": [None, 3, {"short_code": 1}]}},
    {"prosody_rate": 1e308},
    {"prosody_rate": float("nan")},
    {"timezone": "\u0000"},
    {"timezone": "a" * 10_000},
    {"voice": ["x"]},
    {"claim": [{"name": "a" * 10_000, "type": "text"}]},
    {"claim": [{"name": "a", "type": "text", "description": "d" * 10_000}]},
    {"claim": {"name": "a"}},
    {"task": "\ud800"},
]


@pytest.mark.parametrize("overrides", HOSTILE_BODIES)
def test_hostile_bodies_get_a_4xx_with_a_message_and_place_nothing(
    client: TestClient,
    backend: InMemoryCallBackend,
    payload: dict[str, Any],
    overrides: dict[str, Any],
) -> None:
    import json

    body = json.dumps({**payload, **overrides}).encode()
    response = client.post("/call", content=body, headers={"Content-Type": "application/json"})
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["error"]["message"]
    assert backend.placed == []


@pytest.mark.parametrize(
    "path",
    [
        "/call/%2e%2e%2f",
        "/call/" + "a" * 5000,
        "/report/%00",
        "/call?phone_number=" + "%2B" * 2000,
        "/report?phone_number=%FF",
        "/call/6f1c1f3e-2b7a-4d8e-9c1a-0b2d3e4f5a6b/extra",
    ],
)
def test_odd_urls_get_a_4xx(client: TestClient, ended_call: Call, path: str) -> None:
    response = client.get(path)
    assert 400 <= response.status_code < 500
    assert response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("fragment", "where"),
    [
        ('"lang": {"\\ud800": 1}', "a key of lang"),
        (
            '"lang": {"default_short_code": "en-US",'
            ' "availables": [{"short_code": "en-US", "\\udfff": "x"}]}',
            "a key of lang.availables[0]",
        ),
        ('"task": "water \\ud800 damage"', "task"),
        (
            '"claim": [{"name": "a", "type": "text", "description": "\\ud800"}]',
            "claim[0].description",
        ),
        ('"\\udc00": 1', "a key of the body"),
    ],
)
def test_a_lone_surrogate_anywhere_in_the_body_is_a_422_that_says_where(
    client: TestClient,
    backend: InMemoryCallBackend,
    payload: dict[str, Any],
    fragment: str,
    where: str,
) -> None:
    payload = {k: v for k, v in payload.items() if k not in ("lang", "task", "claim")}
    body = json.dumps(payload)[:-1] + ", " + fragment + "}"

    response = client.post("/call", content=body, headers={"Content-Type": "application/json"})

    assert response.status_code == 422
    assert f"{where} holds a lone UTF-16 surrogate" in response.json()["error"]["message"]
    assert backend.placed == []
