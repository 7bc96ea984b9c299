"""Fixtures: the gateway app over an in-memory backend, and a valid request body."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from switchboard.config import Settings
from switchboard.domain import (
    Call,
    CallRequest,
    CallState,
    ClaimField,
    ClaimFieldType,
    Message,
    MessageAction,
    NextAction,
    Persona,
    Reminder,
    Synthesis,
)
from switchboard_gateway.app import create_app
from switchboard_gateway.memory_backend import InMemoryCallBackend

API_KEY = "test-key-0123456789"
AUTH = {"Authorization": f"Bearer {API_KEY}"}


@pytest.fixture
def settings() -> Settings:
    return Settings.model_validate(
        {
            "gateway": {"api_keys": [API_KEY, "second-key"]},
            "speech": {"languages": ["en-US", "fr-FR", "zh-Hans-CN"]},
        }
    )


@pytest.fixture
def backend() -> InMemoryCallBackend:
    return InMemoryCallBackend()


@pytest.fixture
def client(settings: Settings, backend: InMemoryCallBackend) -> Iterator[TestClient]:
    app = create_app(settings, backend)
    with TestClient(app, headers=AUTH, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def anonymous(settings: Settings, backend: InMemoryCallBackend) -> Iterator[TestClient]:
    app = create_app(settings, backend)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def payload() -> dict[str, Any]:
    return {
        "bot_company": "Contoso Insurance",
        "bot_name": "Joe",
        "phone_number": "+14155550123",
        "agent_phone_number": "+14155550199",
        "task": "Help the customer file a claim for the damage to their home.",
        "claim": [
            {"name": "incident_date", "type": "datetime", "description": "when it happened"},
            {"name": "email", "type": "email", "description": "where to write"},
        ],
        "lang": "en-US",
        "prosody_rate": 1.0,
    }


@pytest.fixture
def ended_call(backend: InMemoryCallBackend) -> Call:
    """A finished call with a transcript, a claim, a reminder and an outcome, in the backend."""
    at = datetime(2026, 3, 3, 17, 30, tzinfo=UTC)
    return backend.add(
        Call(
            call_id="6f1c1f3e-2b7a-4d8e-9c1a-0b2d3e4f5a6b",
            initiate=CallRequest(
                bot_company="Contoso <Insurance>",
                bot_name="Joe",
                phone_number="+14155550123",
                agent_phone_number="+14155550199",
                task="Collect the claim.",
                claim=(
                    ClaimField(name="incident_date", type=ClaimFieldType.DATETIME),
                    ClaimField(name="email", type=ClaimFieldType.EMAIL, description="contact"),
                ),
                timezone="America/Los_Angeles",
            ),
            state=CallState.ENDED,
            state_reason="end_call",
            created_at=at,
            updated_at=at + timedelta(minutes=3),
            claim={"incident_date": "2026-03-02T00:00:00-08:00"},
            messages=[
                Message(seq=1, persona=Persona.HUMAN, action=MessageAction.CALL, created_at=at),
                Message(
                    seq=2,
                    persona=Persona.ASSISTANT,
                    content="Hello, this is Joe from Contoso.",
                    created_at=at,
                    interrupted=True,
                ),
                Message(
                    seq=3,
                    persona=Persona.HUMAN,
                    content="<script>alert('hi')</script> It happened yesterday.",
                    created_at=at,
                ),
            ],
            reminders=[Reminder(title="Call back the customer", due_at=at, owner="assistant")],
            synthesis=Synthesis(short="the flooding of your kitchen", satisfaction="high"),
            next_action=NextAction(action="customer_will_send_info", justification="Photos."),
            sms_summary="Hello, I understand your kitchen flooded.",
            lang="en-US",
        )
    )
