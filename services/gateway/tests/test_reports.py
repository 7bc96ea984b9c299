"""The HTML pages: a call's report and the list of calls."""

from __future__ import annotations

import html
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from switchboard.call_events import CallEvent, ClaimChange
from switchboard.domain import Call, CallState, Message, Persona, ToolCall
from switchboard.errors import Unavailable
from switchboard_gateway.memory_backend import InMemoryCallBackend


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


REFRESH = '<meta http-equiv="refresh"'


def test_a_live_calls_report_reloads_itself_and_an_ended_ones_does_not(
    client: TestClient, backend: InMemoryCallBackend, ended_call: Call
) -> None:
    live = backend.add(
        ended_call.model_copy(update={"call_id": str(uuid.uuid4()), "state": CallState.RINGING})
    )

    live_page = client.get(f"/report/{live.call_id}")
    ended_page = client.get(f"/report/{ended_call.call_id}")

    assert REFRESH in live_page.text and "reloads every 5 seconds" in page_text(live_page.text)
    assert REFRESH not in ended_page.text
    # Reloading needs no script: the page keeps the strict policy.
    assert "<script" not in live_page.text
    assert "script-src" not in live_page.headers["content-security-policy"]


def add_calls(backend: InMemoryCallBackend, template: Call, count: int) -> list[str]:
    """``count`` calls one minute apart; their ids, newest first."""
    start = datetime(2026, 3, 1, tzinfo=UTC)
    ids = []
    for n in range(count):
        call = template.model_copy(
            update={"call_id": str(uuid.uuid4()), "created_at": start + timedelta(minutes=n)}
        )
        ids.append(backend.add(call).call_id)
    return ids[::-1]


def report_links(page: str) -> list[str]:
    return re.findall(r'href="/report/([0-9a-f-]{36})"', page)


def test_the_list_pages_beyond_the_newest_100(
    client: TestClient, backend: InMemoryCallBackend, ended_call: Call
) -> None:
    backend.calls.clear()
    newest_first = add_calls(backend, ended_call, 150)

    first = client.get("/report").text
    second = client.get("/report", params={"page": "2"}).text

    assert report_links(first) == newest_first[:100]
    assert "150 calls, 1\u2013100 shown (page 1 of 2)." in page_text(first)
    assert 'href="/report?page=2" rel="next"' in first and 'rel="prev"' not in first
    assert report_links(second) == newest_first[100:]
    assert "150 calls, 101\u2013150 shown (page 2 of 2)." in page_text(second)
    assert 'href="/report" rel="prev"' in second and 'rel="next"' not in second


def test_paging_keeps_the_number_filter(
    client: TestClient, backend: InMemoryCallBackend, ended_call: Call
) -> None:
    add_calls(backend, ended_call, 120)

    html = client.get("/report", params={"phone_number": "+14155550123"}).text

    assert 'href="/report?phone_number=%2B14155550123&amp;page=2" rel="next"' in html
    third = client.get("/report", params={"phone_number": "+14155550123", "page": "3"}).text
    assert "No calls on this page." in third
    assert 'href="/report?phone_number=%2B14155550123&amp;page=2" rel="prev"' in third


@pytest.mark.parametrize("page", ["0", "-1", "two", "10001"])
def test_a_bad_page_is_refused(client: TestClient, page: str) -> None:
    response = client.get("/report", params={"page": page})
    assert response.status_code == 422
    assert "page" in response.json()["error"]["message"]


def test_the_report_shows_the_bots_tool_calls_escaped(
    client: TestClient, backend: InMemoryCallBackend, ended_call: Call
) -> None:
    said = Message(
        seq=4,
        persona=Persona.ASSISTANT,
        content="Noted.",
        tool_calls=[
            ToolCall(
                tool_id="t1",
                name="update_claim",
                arguments_json='{"field": "email", "value": "<b>jo@example.com</b>"}',
                result="email saved",
            )
        ],
    )
    backend.add(ended_call.model_copy(update={"messages": [*ended_call.messages, said]}))

    html = client.get(f"/report/{ended_call.call_id}").text

    assert "<b>jo@example.com</b>" not in html
    assert "&lt;b&gt;jo@example.com&lt;/b&gt;" in html
    text = page_text(html)
    assert 'tool call update_claim → email saved { "field": "email",' in text


def test_the_report_shows_the_calls_timeline(
    client: TestClient, backend: InMemoryCallBackend, ended_call: Call
) -> None:
    at = datetime(2026, 3, 3, 17, 30, 5, tzinfo=UTC)
    backend.events[ended_call.call_id] = [
        CallEvent(ended_call.call_id, 1, at, CallState.DIALING),
        CallEvent(ended_call.call_id, 2, at + timedelta(seconds=4), CallState.IN_PROGRESS),
        CallEvent(ended_call.call_id, 3, at, Message(persona=Persona.HUMAN, content="hi")),
        CallEvent(ended_call.call_id, 4, at, ClaimChange("email", "<i>jo@example.com</i>")),
        CallEvent(ended_call.call_id, 5, at + timedelta(seconds=70), CallState.ENDED),
    ]

    html = client.get(f"/report/{ended_call.call_id}").text

    timeline = page_text(html).split("Timeline", 1)[1]
    assert timeline.startswith(
        " When What 2026-03-03 09:30:05 PST State Dialing"
        " 2026-03-03 09:30:09 PST State In progress"
        " 2026-03-03 09:30:05 PST Claim email = <i>jo@example.com</i>"
        " 2026-03-03 09:31:15 PST State Ended"
    ), timeline
    assert "&lt;i&gt;" in html


def test_the_report_survives_unreadable_events(
    client: TestClient, backend: InMemoryCallBackend, ended_call: Call
) -> None:
    async def unavailable(call_id: str) -> list[CallEvent]:
        raise Unavailable("store away")

    backend.call_events = unavailable  # type: ignore[method-assign]

    response = client.get(f"/report/{ended_call.call_id}")

    assert response.status_code == 200
    assert "The call's events cannot be read right now." in response.text
