"""The HTML pages: a call's report and the list of calls."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from switchboard.domain import Call


def page_text(page: str) -> str:
    """The visible text of an HTML page, whitespace collapsed."""
    without_style = re.sub(r"<style>.*?</style>", " ", page, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", without_style)).split())


def test_the_report_shows_transcript_claim_reminders_synthesis_and_next_action(
    client: TestClient, ended_call: Call
) -> None:
    response = client.get(f"/report/{ended_call.call_id}")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    text = page_text(response.text)
    for expected in (
        "Hello, this is Joe from Contoso.",
        "(interrupted)",
        "It happened yesterday.",
        "Incident date",
        "datetime",
        "2026-03-02T00:00:00-08:00",
        "Email",
        "email",
        "Call back the customer",
        "the flooding of your kitchen",
        "Customer will send info",
        "Ended",
        "end_call",
    ):
        assert expected in text, expected


def test_the_report_shows_times_in_the_calls_timezone(client: TestClient, ended_call: Call) -> None:
    assert "2026-03-03 09:30 PST" in client.get(f"/report/{ended_call.call_id}").text


def test_the_report_escapes_what_callers_said(client: TestClient, ended_call: Call) -> None:
    html = client.get(f"/report/{ended_call.call_id}").text
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "Contoso &lt;Insurance&gt;" in html


def test_the_report_loads_nothing_from_elsewhere(client: TestClient, ended_call: Call) -> None:
    html = client.get(f"/report/{ended_call.call_id}").text
    assert "http://" not in html and "https://" not in html


def test_an_unknown_report_is_a_404(client: TestClient) -> None:
    response = client.get("/report/00000000-0000-4000-8000-000000000000")
    assert response.status_code == 404
    assert response.json()["error"]["message"]


def test_a_browser_gets_errors_as_a_page(client: TestClient) -> None:
    response = client.get("/report/nope", headers={"Accept": "text/html"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert "call_id must be a UUID" in response.text


def test_the_list_links_each_call_to_its_report(
    client: TestClient, payload: dict[str, Any], ended_call: Call
) -> None:
    placed = client.post("/call", json=payload).json()["call_id"]

    html = client.get("/report").text

    assert f'href="/report/{placed}"' in html
    assert f'href="/report/{ended_call.call_id}"' in html
    assert "2 calls" in page_text(html)


def test_the_list_filters_by_number(
    client: TestClient, payload: dict[str, Any], ended_call: Call
) -> None:
    payload["phone_number"] = "+33612345678"
    client.post("/call", json=payload)

    html = client.get("/report", params={"phone_number": "+33612345678"}).text

    assert ended_call.call_id not in html
    assert "1 call with +33612345678" in page_text(html)


@pytest.mark.parametrize("number", ["123", "+1415"])
def test_the_list_refuses_an_invalid_number(client: TestClient, number: str) -> None:
    response = client.get("/report", params={"phone_number": number})
    assert response.status_code == 422
    assert response.json()["error"]["message"].startswith("phone_number")


def test_an_empty_list_says_so(client: TestClient) -> None:
    assert "No calls yet." in client.get("/report").text
