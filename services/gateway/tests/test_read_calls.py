"""GET /call/{call_id} and GET /call?phone_number=."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from switchboard.domain import Call
from switchboard_gateway.memory_backend import InMemoryCallBackend


def test_a_call_is_returned_with_transcript_claim_and_outcome(
    client: TestClient, ended_call: Call
) -> None:
    response = client.get(f"/call/{ended_call.call_id}")

    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "ended"
    assert body["state_reason"] == "end_call"
    assert body["claim"] == {"incident_date": "2026-03-02T00:00:00-08:00"}
    assert [m["seq"] for m in body["messages"]] == [1, 2, 3]
    assert body["messages"][1] == {
        "seq": 2,
        "created_at": "2026-03-03T17:30:00Z",
        "persona": "assistant",
        "action": "talk",
        "content": "Hello, this is Joe from Contoso.",
        "lang": "",
        "interrupted": True,
    }
    assert body["reminders"][0]["title"] == "Call back the customer"
    assert body["synthesis"]["short"] == "the flooding of your kitchen"
    assert body["next_action"] == {
        "action": "customer_will_send_info",
        "justification": "Photos.",
    }
    assert body["sms_summary"].startswith("Hello")


def test_a_call_id_in_upper_case_finds_the_same_call(client: TestClient, ended_call: Call) -> None:
    assert client.get(f"/call/{ended_call.call_id.upper()}").status_code == 200


def test_a_placed_call_can_be_read_back(client: TestClient, payload: dict[str, Any]) -> None:
    placed = client.post("/call", json=payload).json()
    assert client.get(f"/call/{placed['call_id']}").json() == placed


def test_an_unknown_call_is_a_404_with_a_message(client: TestClient) -> None:
    response = client.get("/call/00000000-0000-4000-8000-000000000000")
    assert response.status_code == 404
    assert "00000000-0000-4000-8000-000000000000" in response.json()["error"]["message"]


@pytest.mark.parametrize("call_id", ["42", "not-a-uuid", "+14155550123", "x" * 300, "%00"])
def test_a_malformed_call_id_is_a_422_that_says_a_uuid_is_expected(
    client: TestClient, call_id: str
) -> None:
    response = client.get(f"/call/{call_id}")
    assert response.status_code == 422
    assert response.json()["error"]["message"].startswith("call_id must be a UUID")


def test_calls_are_listed_newest_first(client: TestClient, payload: dict[str, Any]) -> None:
    first = client.post("/call", json=payload).json()["call_id"]
    second = client.post("/call", json=payload).json()["call_id"]

    listed = client.get("/call", params={"phone_number": "+14155550123"}).json()

    assert [c["call_id"] for c in listed] == [second, first]
    assert listed[0]["messages"] == []


def test_the_list_is_filtered_by_number(
    client: TestClient, payload: dict[str, Any], ended_call: Call
) -> None:
    payload["phone_number"] = "+33612345678"
    other = client.post("/call", json=payload).json()["call_id"]

    listed = client.get("/call", params={"phone_number": "+33612345678"}).json()

    assert [c["call_id"] for c in listed] == [other]
    assert len(client.get("/call").json()) == 2


def test_an_unencoded_plus_in_the_number_filter_still_works(
    client: TestClient, ended_call: Call
) -> None:
    listed = client.get("/call?phone_number=+14155550123").json()
    assert [c["call_id"] for c in listed] == [ended_call.call_id]


def test_a_number_without_calls_lists_nothing(client: TestClient) -> None:
    response = client.get("/call", params={"phone_number": "+14155550100"})
    assert response.status_code == 200
    assert response.json() == []


def test_the_list_holds_at_most_one_hundred_calls(
    client: TestClient, payload: dict[str, Any]
) -> None:
    for _ in range(101):
        client.post("/call", json=payload)
    assert len(client.get("/call").json()) == 100


@pytest.mark.parametrize("number", ["4155550123", "+1415", "abc", "%2B"])
def test_an_invalid_number_filter_is_a_422(
    client: TestClient, backend: InMemoryCallBackend, number: str
) -> None:
    response = client.get(f"/call?phone_number={number}")
    assert response.status_code == 422
    assert response.json()["error"]["message"].startswith("phone_number")
