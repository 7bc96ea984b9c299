"""POST /call: the happy path, defaults, and every kind of bad input."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from switchboard.domain import ClaimFieldType
from switchboard_gateway.defaults import DEFAULT_CLAIM, DEFAULT_TASK
from switchboard_gateway.memory_backend import InMemoryCallBackend


def assert_rejected(
    response: Any, status: int, backend: InMemoryCallBackend, *fragments: str
) -> dict[str, Any]:
    """The request failed with ``status``, an envelope naming the problem, and no call."""
    assert response.status_code == status, response.text
    error = response.json()["error"]
    for fragment in fragments:
        assert fragment in error["message"], error
    assert backend.placed == []
    assert backend.calls == {}
    return dict(error)


def test_a_valid_request_places_a_call_and_returns_it_with_201(
    client: TestClient, backend: InMemoryCallBackend, payload: dict[str, Any]
) -> None:
    response = client.post("/call", json=payload)

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["state"] == "dialing"
    assert body["in_progress"] is False
    assert body["initiate"]["phone_number"] == "+14155550123"
    assert body["initiate"]["claim"][0] == {
        "name": "incident_date",
        "type": "datetime",
        "description": "when it happened",
    }
    assert body["report_url"] == f"http://testserver/report/{body['call_id']}"
    assert set(body) >= {
        "call_id", "created_at", "updated_at", "direction", "state", "state_reason",
        "in_progress", "initiate", "claim", "messages", "reminders", "synthesis",
        "next_action", "sms_summary", "lang", "report_url",
    }  # fmt: skip
    [placed] = backend.placed
    assert placed.claim[1].type is ClaimFieldType.EMAIL


def test_omitted_fields_get_the_reference_defaults(
    client: TestClient, backend: InMemoryCallBackend, payload: dict[str, Any]
) -> None:
    for field in ("task", "claim", "lang", "prosody_rate"):
        del payload[field]

    assert client.post("/call", json=payload).status_code == 201

    [placed] = backend.placed
    assert placed.task == DEFAULT_TASK
    assert placed.claim == DEFAULT_CLAIM
    assert len(placed.claim) == 9
    assert placed.lang == "en-US"
    assert placed.prosody_rate == 1.0


def test_an_empty_claim_list_means_nothing_to_collect(
    client: TestClient, backend: InMemoryCallBackend, payload: dict[str, Any]
) -> None:
    payload["claim"] = []
    assert client.post("/call", json=payload).status_code == 201
    assert backend.placed[0].claim == ()


def test_the_timezone_is_derived_from_the_number_when_omitted(
    client: TestClient, backend: InMemoryCallBackend, payload: dict[str, Any]
) -> None:
    payload["phone_number"] = "+33612345678"
    response = client.post("/call", json=payload)
    assert response.json()["initiate"]["timezone"] == "Europe/Paris"
    assert backend.placed[0].timezone == "Europe/Paris"


def test_an_explicit_timezone_is_kept(
    client: TestClient, backend: InMemoryCallBackend, payload: dict[str, Any]
) -> None:
    payload["timezone"] = "Asia/Tokyo"
    client.post("/call", json=payload)
    assert backend.placed[0].timezone == "Asia/Tokyo"


def test_the_reference_lang_object_is_accepted_and_its_voice_used(
    client: TestClient, backend: InMemoryCallBackend, payload: dict[str, Any]
) -> None:
    payload["lang"] = {
        "default_short_code": "fr-FR",
        "availables": [
            {"short_code": "en-US", "voice": "en-US-ShimmerTurboMultilingualNeural"},
            {"short_code": "fr-FR", "voice": "fr-FR-VivienneMultilingualNeural"},
        ],
    }
    assert client.post("/call", json=payload).status_code == 201
    assert backend.placed[0].lang == "fr-FR"
    assert backend.placed[0].voice == "fr-FR-VivienneMultilingualNeural"


def test_the_reference_lang_availables_are_kept_on_the_call(
    client: TestClient, backend: InMemoryCallBackend, payload: dict[str, Any]
) -> None:
    payload["lang"] = {
        "default_short_code": "en-US",
        "availables": [
            {"short_code": "en-US", "voice": "en-US-AvaNeural", "pronunciations_en": ["English"]},
            {
                "short_code": "fr-fr",
                "voice": "fr-FR-DeniseNeural",
                "pronunciations_en": ["French", "FR"],
                "custom_voice_endpoint_id": "endpoint-1",
            },
        ],
    }
    assert client.post("/call", json=payload).status_code == 201
    placed = backend.placed[0]
    assert [o.short_code for o in placed.langs] == ["en-US", "fr-FR"]
    assert placed.langs[1].pronunciations_en == ("French", "FR")
    assert placed.langs[1].custom_voice_endpoint_id == "endpoint-1"
    assert (placed.voice_for("fr-FR"), placed.voice_for("en-US")) == (
        "fr-FR-DeniseNeural",
        "en-US-AvaNeural",
    )


@pytest.mark.parametrize(
    "lang",
    [
        "de-DE",
        {"default_short_code": "de-DE"},
        {
            "default_short_code": "en-US",
            "availables": [{"short_code": "en-US"}, {"short_code": "ja-JP"}],
        },
    ],
)
def test_a_language_the_speech_providers_do_not_serve_is_refused_with_the_served_list(
    client: TestClient, backend: InMemoryCallBackend, payload: dict[str, Any], lang: object
) -> None:
    payload["lang"] = lang
    error = assert_rejected(
        client.post("/call", json=payload), 422, backend, "cannot be served on this deployment"
    )
    assert "use one of en-US, fr-FR, zh-Hans-CN" in error["message"]


def test_a_lang_code_is_put_in_canonical_case(
    client: TestClient, backend: InMemoryCallBackend, payload: dict[str, Any]
) -> None:
    payload["lang"] = "zh-hans-cn"
    client.post("/call", json=payload)
    assert backend.placed[0].lang == "zh-Hans-CN"


def test_phone_numbers_are_normalised_to_e164(
    client: TestClient, backend: InMemoryCallBackend, payload: dict[str, Any]
) -> None:
    payload["phone_number"] = " +1 (415) 555-0123 "
    client.post("/call", json=payload)
    assert backend.placed[0].phone_number == "+14155550123"


@pytest.mark.parametrize("number", ["14155550123", "+1415", "+1 415 abc", "", "tel:+14155550123"])
def test_a_phone_number_that_is_not_e164_is_rejected_with_an_example(
    client: TestClient, backend: InMemoryCallBackend, payload: dict[str, Any], number: str
) -> None:
    payload["phone_number"] = number
    error = assert_rejected(client.post("/call", json=payload), 422, backend, "phone_number")
    assert "+14155550100" in error["message"]


def test_the_agent_number_must_be_e164_too(
    client: TestClient, backend: InMemoryCallBackend, payload: dict[str, Any]
) -> None:
    payload["agent_phone_number"] = "0612345678"
    assert_rejected(
        client.post("/call", json=payload), 422, backend, "agent_phone_number must be E.164"
    )


def test_an_unknown_claim_type_names_its_position_and_the_allowed_types(
    client: TestClient, backend: InMemoryCallBackend, payload: dict[str, Any]
) -> None:
    payload["claim"].append({"name": "amount", "type": "money"})
    assert_rejected(
        client.post("/call", json=payload),
        422,
        backend,
        "claim[2].type must be one of text, datetime, email, phone_number",
    )


def test_duplicate_claim_field_names_are_rejected(
    client: TestClient, backend: InMemoryCallBackend, payload: dict[str, Any]
) -> None:
    payload["claim"].append({"name": "email", "type": "text"})
    assert_rejected(
        client.post("/call", json=payload), 422, backend, "'email' is used twice", "claim[1]"
    )


@pytest.mark.parametrize("name", ["Incident Date", "1st_field", "class", "naïve", "a-b", ""])
def test_a_claim_field_name_that_is_not_an_identifier_is_rejected(
    client: TestClient, backend: InMemoryCallBackend, payload: dict[str, Any], name: str
) -> None:
    payload["claim"][0]["name"] = name
    assert_rejected(client.post("/call", json=payload), 422, backend, "claim[0].name", "identifier")


def test_more_than_fifty_claim_fields_are_rejected(
    client: TestClient, backend: InMemoryCallBackend, payload: dict[str, Any]
) -> None:
    payload["claim"] = [{"name": f"field_{i}", "type": "text"} for i in range(51)]
    assert_rejected(
        client.post("/call", json=payload), 422, backend, "claim must have at most 50 items"
    )


def test_fifty_claim_fields_are_accepted(
    client: TestClient, backend: InMemoryCallBackend, payload: dict[str, Any]
) -> None:
    payload["claim"] = [{"name": f"field_{i}", "type": "text"} for i in range(50)]
    assert client.post("/call", json=payload).status_code == 201


@pytest.mark.parametrize("rate", [0.5, 1.3, -1, "fast", True])
def test_a_prosody_rate_outside_the_range_is_rejected(
    client: TestClient, backend: InMemoryCallBackend, payload: dict[str, Any], rate: object
) -> None:
    payload["prosody_rate"] = rate
    assert_rejected(client.post("/call", json=payload), 422, backend, "prosody_rate must be")


@pytest.mark.parametrize(
    "lang",
    ["english", "en_US", "", 42, {"availables": []}, {"default_short_code": 7}, ["en-US"]],
)
def test_a_bad_lang_is_rejected_with_both_accepted_forms(
    client: TestClient, backend: InMemoryCallBackend, payload: dict[str, Any], lang: object
) -> None:
    payload["lang"] = lang
    error = assert_rejected(client.post("/call", json=payload), 422, backend, "lang must be")
    assert "en-US" in error["message"] and "default_short_code" in error["message"]


@pytest.mark.parametrize("zone", ["Mars/Olympus", "../../etc/passwd", "paris", "/usr/share"])
def test_a_timezone_that_is_not_an_iana_name_is_rejected(
    client: TestClient, backend: InMemoryCallBackend, payload: dict[str, Any], zone: str
) -> None:
    payload["timezone"] = zone
    assert_rejected(
        client.post("/call", json=payload), 422, backend, "timezone must be an IANA timezone"
    )


def test_unknown_top_level_fields_are_rejected(
    client: TestClient, backend: InMemoryCallBackend, payload: dict[str, Any]
) -> None:
    payload["webhook_url"] = "https://example.com"
    assert_rejected(
        client.post("/call", json=payload), 422, backend, "webhook_url is not a known field"
    )


def test_missing_required_fields_are_each_named(
    client: TestClient, backend: InMemoryCallBackend, payload: dict[str, Any]
) -> None:
    del payload["bot_name"]
    del payload["phone_number"]
    error = assert_rejected(client.post("/call", json=payload), 422, backend, "2 problems")
    assert error["details"] == ["bot_name is required", "phone_number is required"]


def test_an_empty_bot_name_is_rejected(
    client: TestClient, backend: InMemoryCallBackend, payload: dict[str, Any]
) -> None:
    payload["bot_name"] = "   "
    assert_rejected(client.post("/call", json=payload), 422, backend, "bot_name must not be empty")


def test_a_voice_with_markup_is_rejected(
    client: TestClient, backend: InMemoryCallBackend, payload: dict[str, Any]
) -> None:
    payload["voice"] = "<speak>hi</speak>"
    assert_rejected(client.post("/call", json=payload), 422, backend, "voice must be a voice name")


def test_a_body_over_64_kib_is_refused_with_413_before_parsing(
    client: TestClient, backend: InMemoryCallBackend, payload: dict[str, Any]
) -> None:
    payload["task"] = "x" * (64 * 1024)
    assert_rejected(client.post("/call", json=payload), 413, backend, "at most 65536 bytes")


def test_a_chunked_body_over_the_limit_is_refused_too(
    client: TestClient, backend: InMemoryCallBackend
) -> None:
    def chunks() -> Any:
        for _ in range(100):
            yield b" " * 1024

    response = client.post("/call", content=chunks(), headers={"Content-Type": "application/json"})
    assert_rejected(response, 413, backend, "at most")


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", ""]
)
def test_a_body_that_is_not_json_is_refused_with_415(
    client: TestClient, backend: InMemoryCallBackend, payload: dict[str, Any], content_type: str
) -> None:
    response = client.post(
        "/call", content=json.dumps(payload), headers={"Content-Type": content_type}
    )
    assert_rejected(response, 415, backend, "Content-Type: application/json")


def test_a_json_content_type_with_a_charset_is_accepted(
    client: TestClient, payload: dict[str, Any]
) -> None:
    response = client.post(
        "/call",
        content=json.dumps(payload),
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 201


@pytest.mark.parametrize(
    "body",
    [b"{", b"", b"null", b"[]", b'"call me"', b"\xff\xfe", b'{"claim": [1, 2]}'],
    ids=["truncated", "empty", "null", "array", "string", "not-utf8", "claim-of-numbers"],
)
def test_malformed_json_is_a_422_with_a_message(
    client: TestClient, backend: InMemoryCallBackend, body: bytes
) -> None:
    response = client.post("/call", content=body, headers={"Content-Type": "application/json"})
    error = assert_rejected(response, 422, backend)
    assert error["message"]


def test_absurdly_nested_json_is_a_client_error_not_a_crash(
    client: TestClient, backend: InMemoryCallBackend
) -> None:
    body = b"[" * 20_000 + b"]" * 20_000
    response = client.post("/call", content=body, headers={"Content-Type": "application/json"})
    assert_rejected(response, 422, backend, "not valid JSON")
