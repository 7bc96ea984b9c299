"""Call control at the REST edge (in-memory backend): hang-up, transfer, live calls,
Idempotency-Key and callback_url checks, webhook signatures and the SSRF guard."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fastapi.testclient import TestClient

from switchboard.domain import Call, CallState
from switchboard.errors import Unavailable
from switchboard_gateway import webhook_signing, webhook_targets
from switchboard_gateway.memory_backend import InMemoryCallBackend
from switchboard_gateway.webhook_targets import TargetRefused, check_url, resolve

API_KEY = "test-key-0123456789"


def placed(client: TestClient, payload: dict[str, Any], **headers: str) -> dict[str, Any]:
    answer = client.post("/call", json=payload, headers=headers)
    assert answer.status_code == 201, answer.text
    result: dict[str, Any] = answer.json()
    return result


def set_state(backend: InMemoryCallBackend, call_id: str, state: CallState) -> Call:
    return backend.add(backend.calls[call_id].model_copy(update={"state": state}))


# Hang-up and transfer.


def test_hanging_up_a_ringing_call_cancels_it_and_a_second_hang_up_is_a_409(
    client: TestClient, backend: InMemoryCallBackend, payload: dict[str, Any]
) -> None:
    call_id = placed(client, payload)["call_id"]

    first = client.post(f"/call/{call_id}/hangup")
    second = client.post(f"/call/{call_id}/hangup")

    assert (first.status_code, first.json()["state"]) == (202, "ended")
    assert backend.calls[call_id].state_reason == "api_hangup"
    assert second.status_code == 409
    assert second.json()["error"]["message"] == "the call is already over (ended)"


def test_hang_up_of_an_unknown_or_malformed_call_id(client: TestClient) -> None:
    assert client.post("/call/6f1c2a9e-3b57-4d2a-9a0e-2f1e4c7b8d90/hangup").status_code == 404
    assert client.post("/call/not-a-uuid/hangup").status_code == 422


def test_transfer_goes_to_the_agent_number_unless_a_target_is_given(
    client: TestClient, backend: InMemoryCallBackend, payload: dict[str, Any]
) -> None:
    first = placed(client, payload)["call_id"]
    second = placed(client, {**payload, "phone_number": "+14155550124"})["call_id"]
    set_state(backend, first, CallState.IN_PROGRESS)
    set_state(backend, second, CallState.IN_PROGRESS)

    assert client.post(f"/call/{first}/transfer", json={}).status_code == 202
    answer = client.post(f"/call/{second}/transfer", json={"target": "+44 20 7946 0958"})

    assert answer.status_code == 202
    assert answer.json()["state"] == "transferring"
    assert backend.transfers == [(first, "+14155550199"), (second, "+442079460958")]


def test_transfer_refuses_a_bad_target_and_a_call_that_is_not_connected(
    client: TestClient, backend: InMemoryCallBackend, payload: dict[str, Any]
) -> None:
    call_id = placed(client, payload)["call_id"]

    ringing = client.post(f"/call/{call_id}/transfer", json={})
    set_state(backend, call_id, CallState.IN_PROGRESS)
    bad = client.post(f"/call/{call_id}/transfer", json={"target": "call me maybe"})
    extra = client.post(f"/call/{call_id}/transfer", json={"number": "+14155550142"})

    assert ringing.status_code == 409
    assert "only a connected call can be transferred; it is dialing" in ringing.text
    assert bad.status_code == 422
    assert bad.json()["error"]["message"].startswith("target ")
    assert extra.status_code == 422
    assert backend.transfers == []


def test_live_calls_are_those_not_over(
    client: TestClient, backend: InMemoryCallBackend, payload: dict[str, Any]
) -> None:
    live = placed(client, payload)["call_id"]
    over = placed(client, {**payload, "phone_number": "+14155550124"})["call_id"]
    set_state(backend, over, CallState.FAILED)

    assert [c["call_id"] for c in client.get("/call?state=live").json()] == [live]
    assert [c["call_id"] for c in client.get("/call?state=failed").json()] == [over]
    refused = client.get("/call?state=busy")
    assert refused.status_code == 422
    assert "state must be one of live, created" in refused.json()["error"]["message"]


# Idempotency-Key.


def test_a_retry_with_the_same_key_and_body_gets_the_first_call_without_dialling(
    client: TestClient, backend: InMemoryCallBackend, payload: dict[str, Any]
) -> None:
    first = client.post("/call", json=payload, headers={"Idempotency-Key": "k-1"})
    retry = client.post("/call", json=payload, headers={"Idempotency-Key": "k-1"})
    other = client.post(
        "/call", json={**payload, "bot_name": "Ann"}, headers={"Idempotency-Key": "k-1"}
    )

    assert (first.status_code, retry.status_code, other.status_code) == (201, 200, 422)
    assert retry.json()["call_id"] == first.json()["call_id"]
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert len(backend.placed) == 1


@pytest.mark.parametrize("key", ["", "with space", "k" * 256])
def test_a_malformed_idempotency_key_is_a_422_and_dials_nothing(
    client: TestClient, backend: InMemoryCallBackend, payload: dict[str, Any], key: str
) -> None:
    answer = client.post("/call", json=payload, headers={"Idempotency-Key": key})
    assert answer.status_code == 422
    assert "Idempotency-Key must be 1 to 255 printable ASCII" in answer.json()["error"]["message"]
    assert backend.placed == []


def test_a_key_whose_first_request_is_still_dialling_is_a_409(
    client: TestClient, backend: InMemoryCallBackend, payload: dict[str, Any]
) -> None:
    backend.keys[(webhook_signing.client_id(API_KEY), "k-2")] = _pending(payload)
    answer = client.post("/call", json=payload, headers={"Idempotency-Key": "k-2"})
    assert answer.status_code == 409
    assert answer.headers["Retry-After"]
    assert backend.placed == []


def _pending(payload: dict[str, Any]) -> Any:
    from switchboard.call_control import IdempotencyRecord
    from switchboard_gateway.placing import request_hash
    from switchboard_gateway.request_model import CallInitiate

    digest = request_hash(CallInitiate.model_validate(payload))
    return IdempotencyRecord(webhook_signing.client_id(API_KEY), "k-2", digest)


def test_a_key_whose_dial_failed_is_released_and_may_be_retried(
    client: TestClient, backend: InMemoryCallBackend, payload: dict[str, Any]
) -> None:
    backend.fail_with = Unavailable("dialer down")
    assert client.post("/call", json=payload, headers={"Idempotency-Key": "k-3"}).status_code == 503
    backend.fail_with = None
    assert client.post("/call", json=payload, headers={"Idempotency-Key": "k-3"}).status_code == 201


# callback_url.


def test_a_callback_url_is_registered_for_the_placing_client(
    client: TestClient, backend: InMemoryCallBackend, payload: dict[str, Any]
) -> None:
    url = "https://hooks.example.com/calls?tenant=7"
    call_id = placed(client, {**payload, "callback_url": url})["call_id"]

    webhook = backend.webhooks[call_id]
    assert (webhook.url, webhook.client) == (url, webhook_signing.client_id(API_KEY))
    assert API_KEY not in webhook.client


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://hooks.example.com/calls", "must be an https:// URL"),
        ("https://127.0.0.1/calls", "loopback, private or reserved"),
        ("https://10.1.2.3/calls", "loopback, private or reserved"),
        ("https://[::1]/calls", "loopback, private or reserved"),
        ("https://169.254.169.254/latest/meta-data", "loopback, private or reserved"),
        ("https://localhost/calls", "public host"),
        ("https://user:pw@hooks.example.com/", "user name or password"),
        ("ftp://hooks.example.com/", "must be a URL"),
        ("not a url", "must be a URL"),
    ],
)
def test_a_callback_url_that_could_reach_inside_the_network_is_refused(
    client: TestClient, backend: InMemoryCallBackend, payload: dict[str, Any], url: str, reason: str
) -> None:
    answer = client.post("/call", json={**payload, "callback_url": url})
    assert answer.status_code == 422
    assert answer.json()["error"]["message"].startswith("callback_url ")
    assert reason in answer.json()["error"]["message"]
    assert backend.placed == []


def test_allow_listed_hosts_may_be_plain_http_and_loopback() -> None:
    assert check_url("http://127.0.0.1:8999/hooks", ["127.0.0.1"]) == "http://127.0.0.1:8999/hooks"
    with pytest.raises(TargetRefused):
        check_url("http://127.0.0.2:8999/hooks", ["127.0.0.1"])


def test_delivery_refuses_a_name_with_any_private_address_and_pins_a_public_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    answers = {
        "inside.example.com": ["10.0.0.5"],
        "mixed.example.com": ["93.184.215.14", "127.0.0.1"],
        "hooks.example.com": ["2606:2800:21f:cb07:6820:80da:af6b:8b2c"],
    }

    async def lookup(host: str, port: int) -> list[str]:
        return answers[host]

    monkeypatch.setattr(webhook_targets, "addresses_of", lookup)
    for refused in ("inside", "mixed"):
        with pytest.raises(TargetRefused, match="loopback, private or reserved"):
            asyncio.run(resolve(f"https://{refused}.example.com/x", []))
    target = asyncio.run(resolve("https://hooks.example.com/calls?t=1", []))
    assert target.url == "https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/calls?t=1"
    assert target.host == "hooks.example.com"


def test_delivery_connects_to_the_checked_address_of_a_public_literal() -> None:
    target = asyncio.run(resolve("https://93.184.215.14:8443/hooks?x=1", []))
    assert (target.url, target.host) == ("https://93.184.215.14:8443/hooks?x=1", "93.184.215.14")


# Signatures.


def test_a_signature_verifies_only_for_its_body_secret_and_time() -> None:
    secret = webhook_signing.webhook_secret(API_KEY)
    body = b'{"event":"call.ended"}'
    header = webhook_signing.signature(secret, 1_700_000_000, body)

    assert header.startswith("t=1700000000,v1=")
    assert webhook_signing.verify(secret, header, body, now=1_700_000_100)
    assert not webhook_signing.verify(secret, header, body + b" ", now=1_700_000_100)
    assert not webhook_signing.verify(
        webhook_signing.webhook_secret("second-key"), header, body, now=1_700_000_100
    )
    assert not webhook_signing.verify(secret, header, body, now=1_700_000_000 + 301)  # replay
    assert not webhook_signing.verify(secret, "v1=abc", body, now=1_700_000_000)


def test_each_key_has_its_own_secret_and_neither_reveals_the_key() -> None:
    a, b = webhook_signing.webhook_secret(API_KEY), webhook_signing.webhook_secret("second-key")
    assert a != b and a.startswith("whsec_")
    assert API_KEY not in a + webhook_signing.client_id(API_KEY)
