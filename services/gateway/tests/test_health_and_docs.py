"""Probes and the OpenAPI description."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from switchboard_gateway.memory_backend import InMemoryCallBackend


def test_liveness_answers_ok(anonymous: TestClient) -> None:
    response = anonymous.get("/health/liveness")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readiness_is_ok_when_every_service_is_serving(anonymous: TestClient) -> None:
    response = anonymous.get("/health/readiness")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": [
            {"id": "dialer", "status": "ok"},
            {"id": "speech", "status": "ok"},
            {"id": "brain", "status": "ok"},
            {"id": "store", "status": "ok"},
        ],
    }


def test_readiness_is_503_and_names_the_service_that_is_down(
    anonymous: TestClient, backend: InMemoryCallBackend
) -> None:
    backend.healthy["brain"] = False

    response = anonymous.get("/health/readiness")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert {"id": "brain", "status": "fail"} in body["checks"]
    assert {"id": "store", "status": "ok"} in body["checks"]


def test_the_openapi_schema_is_served_and_describes_the_api(client: TestClient) -> None:
    response = client.get("/openapi.json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "Switchboard"
    assert {"/call", "/call/{call_id}", "/report", "/report/{call_id}"} <= set(schema["paths"])
    assert "/health/readiness" in schema["paths"]
    body = schema["components"]["schemas"]["CallInitiate"]
    assert {"bot_company", "phone_number", "claim", "lang"} <= set(body["properties"])
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


def test_the_docs_page_is_served_with_its_assets_from_the_gateway_not_a_cdn(
    client: TestClient,
) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    assert "/openapi.json" in response.text
    assert "https://" not in response.text and "http://" not in response.text
    assert "script-src 'self'" in response.headers["content-security-policy"]
    for name, media in (
        ("swagger-ui-bundle.js", "text/javascript"),
        ("swagger-ui.css", "text/css"),
        ("docs.js", "text/javascript"),
    ):
        asset = client.get(f"/docs/{name}")
        assert asset.status_code == 200 and asset.headers["content-type"].startswith(media)
        assert len(asset.content) > 200
    assert client.get("/docs/other.js").status_code == 404


@pytest.mark.parametrize("path", ["/report", "/docs", "/softphone", "/call", "/nowhere"])
def test_every_answer_carries_the_security_headers(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "strict-transport-security" not in response.headers
