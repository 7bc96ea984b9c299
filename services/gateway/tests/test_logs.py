"""Personal data stays out of log messages and out of every field not marked ``pii_``."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient

from switchboard.logs import PII_PREFIX, record_fields
from switchboard_gateway.middleware import QuietWebSockets


def test_placing_and_listing_calls_logs_no_phone_number_outside_pii_fields(
    client: TestClient, payload: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        client.post("/call", json=payload)
        client.get("/call", params={"phone_number": payload["phone_number"]})
        client.get("/call", params={"phone_number": "4155550123"})

    assert {"call placed", "request"} <= set(caplog.messages)
    # httpx logs the test client's own requests; the gateway's loggers are what count.
    for record in [r for r in caplog.records if r.name.startswith("switchboard")]:
        public = {
            k: v for k, v in record_fields(record, True).items() if not k.startswith(PII_PREFIX)
        }
        assert "4155550123" not in record.getMessage()
        assert "4155550123" not in repr(public), record
    placed = next(r for r in caplog.records if r.getMessage() == "call placed")
    assert placed.pii_phone_number == "+14155550123"


def test_the_access_log_names_the_route_template_not_the_path(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="switchboard_gateway.access"):
        client.get("/call/00000000-0000-4000-8000-000000000000")
    [record] = [r for r in caplog.records if r.getMessage() == "request"]
    assert record.route == "/call/{call_id}"
    assert record.status == 404


def test_uvicorn_websocket_handshakes_and_frames_stay_out_of_the_log() -> None:
    quiet = QuietWebSockets()

    def record(level: int, msg: str, *args: object, **extra: object) -> logging.LogRecord:
        rec = logging.LogRecord("uvicorn.error", level, __file__, 1, msg, args, None)
        rec.__dict__.update(extra)
        return rec

    handshake = record(
        logging.INFO, '%s - "WebSocket %s" [accepted]', "127.0.0.1:5", "/softphone/ws?key=k"
    )
    assert not quiet.filter(handshake)
    assert not quiet.filter(record(logging.DEBUG, "< cookie: %s", "switchboard_session=x"))
    assert not quiet.filter(record(logging.DEBUG, "> TEXT %r [%d bytes]", "{}", 2))
    assert quiet.filter(record(logging.WARNING, "closing handshake failed"))
    assert quiet.filter(record(logging.INFO, "Application startup complete."))
