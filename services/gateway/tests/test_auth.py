"""API keys: Bearer for the API, ``?key=`` once then a cookie for the browser pages."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from switchboard.config import Settings
from switchboard.domain import Call
from switchboard_gateway.app import create_app
from switchboard_gateway.auth import SESSION_COOKIE, SESSION_MAX_AGE_SEC, ApiKeys
from switchboard_gateway.memory_backend import InMemoryCallBackend
from switchboard_testing.clock import VirtualClock

# The same key as conftest.API_KEY; test modules do not import each other.
API_KEY = "test-key-0123456789"

PROTECTED = [
    ("GET", "/call"),
    ("GET", "/call/6f1c1f3e-2b7a-4d8e-9c1a-0b2d3e4f5a6b"),
    ("GET", "/report"),
    ("GET", "/report/6f1c1f3e-2b7a-4d8e-9c1a-0b2d3e4f5a6b"),
    ("GET", "/docs"),
    ("GET", "/openapi.json"),
]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_every_endpoint_but_health_needs_a_key(
    anonymous: TestClient, ended_call: Call, method: str, path: str
) -> None:
    response = anonymous.request(method, path)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert "Authorization: Bearer" in response.json()["error"]["message"]


def test_placing_a_call_without_a_key_is_refused_and_places_nothing(
    anonymous: TestClient, backend: InMemoryCallBackend, payload: dict[str, Any]
) -> None:
    response = anonymous.post("/call", json=payload)
    assert response.status_code == 401
    assert backend.placed == []


def test_a_wrong_key_is_a_401_saying_the_key_is_invalid(
    anonymous: TestClient, backend: InMemoryCallBackend, payload: dict[str, Any]
) -> None:
    response = anonymous.post("/call", json=payload, headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert response.json()["error"]["message"] == "the API key is not valid"
    assert backend.placed == []


def test_a_key_is_checked_before_the_body_is_validated(anonymous: TestClient) -> None:
    response = anonymous.post("/call", json={"phone_number": "nope"})
    assert response.status_code == 401


def test_another_scheme_than_bearer_is_treated_as_missing(anonymous: TestClient) -> None:
    response = anonymous.get("/call", headers={"Authorization": f"Basic {API_KEY}"})
    assert response.status_code == 401


def test_any_configured_key_is_accepted(anonymous: TestClient) -> None:
    response = anonymous.get("/call", headers={"Authorization": "Bearer second-key"})
    assert response.status_code == 200


def test_without_configured_keys_everything_is_refused(backend: InMemoryCallBackend) -> None:
    app = create_app(Settings(), backend)
    with TestClient(app) as client:
        response = client.get("/call", headers={"Authorization": "Bearer anything"})
        assert response.status_code == 401
        assert "SWITCHBOARD__GATEWAY__API_KEYS" in response.json()["error"]["message"]
        assert client.get("/health/liveness").status_code == 200


@pytest.mark.parametrize("path", ["/health/liveness", "/health/readiness"])
def test_health_probes_need_no_key(anonymous: TestClient, path: str) -> None:
    assert anonymous.get(path).status_code == 200


def test_opening_a_report_with_the_key_signs_the_browser_in_and_drops_the_key_from_the_url(
    anonymous: TestClient, ended_call: Call
) -> None:
    path = f"/report/{ended_call.call_id}"
    response = anonymous.get(f"{path}?key={API_KEY}", follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == path
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Max-Age=43200" in cookie
    assert "Secure" not in cookie  # plain HTTP here; see the HTTPS test
    assert API_KEY not in cookie

    followed = anonymous.get(path)
    assert followed.status_code == 200
    assert "Hello, this is Joe" in followed.text
    assert anonymous.get("/report").status_code == 200
    assert anonymous.get("/docs").status_code == 200


def test_the_key_login_keeps_the_other_query_parameters(anonymous: TestClient) -> None:
    response = anonymous.get(
        f"/report?phone_number=%2B14155550123&key={API_KEY}", follow_redirects=False
    )
    assert response.headers["location"] == "/report?phone_number=%2B14155550123"


def test_the_browser_cookie_does_not_open_the_json_api(
    anonymous: TestClient, ended_call: Call
) -> None:
    anonymous.get(f"/report?key={API_KEY}")
    assert anonymous.get(f"/call/{ended_call.call_id}").status_code == 401


def test_a_wrong_key_in_the_url_is_a_401_and_sets_no_cookie(anonymous: TestClient) -> None:
    response = anonymous.get("/report?key=wrong", follow_redirects=False)
    assert response.status_code == 401
    assert "set-cookie" not in response.headers


def test_a_forged_session_cookie_is_refused(anonymous: TestClient) -> None:
    anonymous.cookies.set(SESSION_COOKIE, "0" * 64)
    assert anonymous.get("/report").status_code == 401


def test_the_key_in_the_url_is_ignored_by_the_json_api(anonymous: TestClient) -> None:
    assert anonymous.get(f"/call?key={API_KEY}").status_code == 401


def signed_in(settings: Settings, clock: VirtualClock) -> TestClient:
    client = TestClient(create_app(settings, InMemoryCallBackend(), clock=clock.time))
    client.get(f"/report?key={API_KEY}")
    return client


def test_a_session_cookie_expires_after_its_max_age(settings: Settings) -> None:
    clock = VirtualClock()
    client = signed_in(settings, clock)
    keys = ApiKeys([API_KEY], clock.time)
    token = client.cookies[SESSION_COOKIE]
    clock.advance(SESSION_MAX_AGE_SEC - 1)
    assert keys.accepts_session(token)
    clock.advance(1)
    assert not keys.accepts_session(token)
    assert client.get("/report").status_code == 401


def test_a_session_past_half_its_life_gets_a_fresh_cookie(settings: Settings) -> None:
    clock = VirtualClock()
    client = signed_in(settings, clock)
    first = client.cookies[SESSION_COOKIE]
    clock.advance(SESSION_MAX_AGE_SEC / 2 - 10)
    assert "set-cookie" not in client.get("/report").headers
    clock.advance(20)
    renewed = client.get("/report")
    assert renewed.status_code == 200 and SESSION_COOKIE in renewed.headers["set-cookie"]
    assert client.cookies[SESSION_COOKIE] != first
    # The fresh cookie outlives the first one's expiry.
    clock.advance(SESSION_MAX_AGE_SEC / 2)
    assert client.get("/report").status_code == 200


def test_a_session_dies_with_its_key_when_the_key_is_rotated_out(settings: Settings) -> None:
    clock = VirtualClock()
    token = signed_in(settings, clock).cookies[SESSION_COOKIE]
    rotated = Settings.model_validate({"gateway": {"api_keys": ["the-new-key-0123456789"]}})
    client = TestClient(create_app(rotated, InMemoryCallBackend(), clock=clock.time))
    client.cookies.set(SESSION_COOKIE, token)
    assert client.get("/report").status_code == 401


def test_a_session_dated_in_the_future_is_refused(settings: Settings) -> None:
    clock = VirtualClock()
    token = signed_in(settings, clock).cookies[SESSION_COOKIE]
    clock = VirtualClock(clock.now() - timedelta(seconds=60))
    client = TestClient(create_app(settings, InMemoryCallBackend(), clock=clock.time))
    client.cookies.set(SESSION_COOKIE, token)
    assert client.get("/report").status_code == 401


def test_the_session_cookie_is_secure_when_the_public_url_is_https() -> None:
    settings = Settings.model_validate(
        {"gateway": {"api_keys": [API_KEY], "public_url": "https://calls.example.com"}}
    )
    client = TestClient(create_app(settings, InMemoryCallBackend()))
    response = client.get(f"/report?key={API_KEY}", follow_redirects=False)
    assert "Secure" in response.headers["set-cookie"]
