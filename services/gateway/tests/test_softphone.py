"""The browser softphone: its page, and the WebSocket bridge to a fake dialer line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession

from switchboard import domain
from switchboard.call_events import CallEvent
from switchboard.config import Settings
from switchboard.errors import FailedPrecondition, Unavailable
from switchboard.media import AudioFrame
from switchboard.phone import (
    ClearAudio,
    PhoneAnswer,
    PhoneCallEnded,
    PhoneConnected,
    PhoneHangUp,
    PhoneRinging,
)
from switchboard_gateway.app import create_app
from switchboard_gateway.auth import SESSION_COOKIE
from switchboard_gateway.memory_backend import InMemoryCallBackend
from switchboard_gateway.phone_grpc import transcript_line
from switchboard_gateway.phone_link import (
    FRAME_BYTES,
    TranscriptLine,
)
from switchboard_gateway.softphone_bridge import Outbox
from switchboard_testing.phone_fakes import FakePhoneExchange, FakePhoneStream, eventually

API_KEY = "test-key-0123456789"
DEFAULT_NUMBER = "+10000000001"
CALL_ID = "3b0c6c1e-8d1f-4c55-9a55-1f2b3c4d5e6f"
FRAME = b"\x01\x02" * (FRAME_BYTES // 2)
NOW = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)


@pytest.fixture
def phones() -> FakePhoneExchange:
    return FakePhoneExchange()


@pytest.fixture
def browser(
    settings: Settings, backend: InMemoryCallBackend, phones: FakePhoneExchange
) -> Iterator[TestClient]:
    """A client without the Bearer header, like a browser."""
    app = create_app(settings, backend, phones)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def connect(client: TestClient, query: str = f"?key={API_KEY}") -> WebSocketTestSession:
    return client.websocket_connect(f"/softphone/ws{query}")


def close_of(ws: WebSocketTestSession) -> tuple[int, str]:
    """Reads until the server closes the socket: its code and reason."""
    while True:
        message = ws.receive()
        if message["type"] == "websocket.close":
            return int(message["code"]), str(message.get("reason", ""))


def registered(ws: WebSocketTestSession, number: str = "") -> dict[str, Any]:
    ws.send_text(json.dumps({"type": "register", "number": number}))
    reply: dict[str, Any] = ws.receive_json()
    assert reply["type"] == "registered"
    return reply


def in_call(ws: WebSocketTestSession, phones: FakePhoneExchange) -> FakePhoneStream:
    """Registers the default number, rings it, answers it: the call is connected."""
    registered(ws)
    phone = phones.phone(DEFAULT_NUMBER)
    phone.push(PhoneRinging(call_id=CALL_ID, from_number="+18005550100"))
    assert ws.receive_json()["type"] == "ringing"
    ws.send_text(json.dumps({"type": "answer", "call_id": CALL_ID}))
    eventually(lambda: PhoneAnswer(CALL_ID) in phone.sent)
    phone.push(PhoneConnected(call_id=CALL_ID))
    assert ws.receive_json() == {"type": "connected", "call_id": CALL_ID}
    return phone


# The page.


def test_the_page_needs_a_key_once_then_the_cookie_opens_it(browser: TestClient) -> None:
    assert browser.get("/softphone").status_code == 401
    login = browser.get(f"/softphone?key={API_KEY}&autoanswer=1", follow_redirects=False)
    assert login.status_code == 303
    assert login.headers["location"] == "/softphone?autoanswer=1"
    assert SESSION_COOKIE in login.cookies
    page = browser.get("/softphone")
    assert page.status_code == 200
    assert '<script type="module" src="/softphone/softphone.js">' in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    script = browser.get("/softphone/softphone.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert browser.get("/softphone/softphone-worklet.js").status_code == 200
    assert browser.get("/softphone/nothing.js").status_code == 404


# Keys and registration.


@pytest.mark.parametrize(
    ("query", "headers"),
    [
        ("", {}),
        ("?key=wrong", {}),
        (f"?key={API_KEY}", {"origin": "https://evil.example"}),
    ],
    ids=["no key", "wrong key", "another site"],
)
def test_the_socket_is_refused_without_a_key_or_from_another_site(
    browser: TestClient, phones: FakePhoneExchange, query: str, headers: dict[str, str]
) -> None:
    with browser.websocket_connect(f"/softphone/ws{query}", headers=headers) as ws:
        code, _ = close_of(ws)
    assert code == 4401
    assert phones.phones == {}


def test_the_session_cookie_opens_the_socket(browser: TestClient) -> None:
    browser.get(f"/softphone?key={API_KEY}")
    with connect(browser, query="") as ws:
        assert registered(ws)["number"] == DEFAULT_NUMBER


def test_register_takes_the_default_number_or_the_given_one_and_closing_unregisters(
    browser: TestClient, phones: FakePhoneExchange
) -> None:
    with connect(browser) as ws:
        assert registered(ws) == {
            "type": "registered",
            "number": DEFAULT_NUMBER,
            "sample_rate": 16000,
        }
        phone = phones.phone(DEFAULT_NUMBER)
    assert phone.closed.wait(3)
    assert phones.phones == {}
    with connect(browser) as ws:
        assert registered(ws, "+1 (415) 555-0123")["number"] == "+14155550123"


@pytest.mark.parametrize(
    ("setup", "number", "code"),
    [
        (None, "555-0123", 4400),
        (None, DEFAULT_NUMBER, 4409),
        (Unavailable("dialer down"), "", 1013),
        (FailedPrecondition("this dialer runs sip"), "", 4412),
    ],
    ids=["not e164", "number taken", "dialer down", "no virtual phones"],
)
def test_a_registration_that_fails_closes_with_a_code_saying_why(
    browser: TestClient,
    phones: FakePhoneExchange,
    setup: Exception | None,
    number: str,
    code: int,
) -> None:
    with connect(browser) as first:
        registered(first)
        phones.fail_with = setup if isinstance(setup, Unavailable | FailedPrecondition) else None
        with connect(browser) as ws:
            ws.send_text(json.dumps({"type": "register", "number": number}))
            got, reason = close_of(ws)
        assert got == code
        assert reason
        assert first is not None


# A call.


def test_a_call_rings_is_answered_streams_both_ways_and_shows_the_transcript(
    browser: TestClient, phones: FakePhoneExchange
) -> None:
    with connect(browser) as ws:
        registered(ws)
        phone = phones.phone(DEFAULT_NUMBER)
        phone.push(PhoneRinging(call_id=CALL_ID, from_number="+18005550100"))
        assert ws.receive_json() == {
            "type": "ringing",
            "call_id": CALL_ID,
            "from": "+18005550100",
        }
        ws.send_bytes(FRAME)  # the microphone before the call is connected: dropped
        ws.send_text(json.dumps({"type": "answer", "call_id": "another-call"}))
        assert ws.receive_json()["type"] == "error"
        ws.send_text(json.dumps({"type": "answer", "call_id": CALL_ID}))
        phone.push(PhoneConnected(call_id=CALL_ID))
        assert ws.receive_json() == {"type": "connected", "call_id": CALL_ID}

        phone.push(AudioFrame(pcm=FRAME))
        assert ws.receive_bytes() == FRAME
        ws.send_bytes(FRAME)
        eventually(lambda: AudioFrame(FRAME) in phone.sent)
        phones.say(CALL_ID, TranscriptLine(seq=2, speaker="bot", text="Hello, this is Joe."))
        assert ws.receive_json() == {
            "type": "transcript",
            "seq": 2,
            "speaker": "bot",
            "text": "Hello, this is Joe.",
            "interrupted": False,
        }
        ws.send_text(json.dumps({"type": "hangup"}))
        eventually(lambda: PhoneHangUp() in phone.sent)
        phone.push(PhoneCallEnded(reason="caller_hangup"))
        assert ws.receive_json() == {"type": "ended", "reason": "caller_hangup"}
    assert phone.sent == [PhoneAnswer(CALL_ID), AudioFrame(FRAME), PhoneHangUp()]


def test_a_repeated_connected_is_passed_on_once(
    browser: TestClient, phones: FakePhoneExchange
) -> None:
    with connect(browser) as ws:
        phone = in_call(ws, phones)
        phone.push(PhoneConnected(call_id=CALL_ID))
        phone.push(PhoneCallEnded(reason="end_call"))
        assert ws.receive_json()["type"] == "ended"


def test_the_bot_hanging_up_ends_the_call_and_the_phone_stays_registered(
    browser: TestClient, phones: FakePhoneExchange
) -> None:
    with connect(browser) as ws:
        phone = in_call(ws, phones)
        phone.push(PhoneCallEnded(reason="end_call"))
        assert ws.receive_json() == {"type": "ended", "reason": "end_call"}
        ws.send_bytes(FRAME)  # after the call: dropped
        phone.push(PhoneRinging(call_id="second-call", from_number="+18005550100"))
        assert ws.receive_json()["call_id"] == "second-call"
        ws.send_text(json.dumps({"type": "hangup"}))  # declines
        eventually(lambda: phone.sent[-1] == PhoneHangUp())
    assert AudioFrame(FRAME) not in phone.sent


def test_a_barge_in_tells_the_page_to_clear_its_audio(
    browser: TestClient, phones: FakePhoneExchange
) -> None:
    with connect(browser) as ws:
        phone = in_call(ws, phones)
        phone.push(AudioFrame(pcm=FRAME))
        assert ws.receive_bytes() == FRAME
        phone.push(ClearAudio())
        assert ws.receive_json() == {"type": "clear"}


def test_a_clear_drops_the_bot_audio_not_yet_sent_to_the_browser() -> None:
    outbox = Outbox()
    outbox.message({"type": "connected", "call_id": CALL_ID})
    for _ in range(3):
        outbox.audio(FRAME)
    outbox.clear_audio()
    outbox.audio(b"after")
    items = [outbox._items.popleft() for _ in range(len(outbox._items))]
    assert items == [{"type": "connected", "call_id": CALL_ID}, {"type": "clear"}, b"after"]


def test_the_dialer_ending_the_stream_closes_the_socket_to_retry(
    browser: TestClient, phones: FakePhoneExchange
) -> None:
    with connect(browser) as ws:
        registered(ws)
        phones.phone(DEFAULT_NUMBER).push(Unavailable("dialer restarted"))
        assert close_of(ws)[0] == 1013


# Bad input: the socket that sent it is closed with a reason; nothing reaches the dialer.

BAD_INPUT = [
    ("text", "hello", 1007),
    ("text", "[1, 2]", 1007),
    ("text", '{"type": 3}', 1007),
    ("text", '{"type": "answer"}', 1007),
    ("text", '{"type": "answer", "call_id": {"x": 1}}', 1007),
    ("text", json.dumps({"type": "hangup", "pad": "x" * 5000}), 1009),
    ("bytes", b"\x00" * 641, 1003),
    ("bytes", b"\x00" * 320, 1003),
    ("bytes", b"\x00" * 1_000_000, 1009),
]


@pytest.mark.parametrize(("kind", "data", "code"), BAD_INPUT)
def test_bad_input_in_a_call_closes_that_socket_and_never_reaches_the_dialer(
    browser: TestClient, phones: FakePhoneExchange, kind: str, data: Any, code: int
) -> None:
    with connect(browser) as ws:
        phone = in_call(ws, phones)
        if kind == "text":
            ws.send_text(data)
        else:
            ws.send_bytes(data)
        got, reason = close_of(ws)
    assert (got, bool(reason)) == (code, True)
    assert phone.sent == [PhoneAnswer(CALL_ID)]
    assert phone.closed.wait(3)


@pytest.mark.parametrize(
    ("first", "code"),
    [(b"\x00" * FRAME_BYTES, 1008), ('{"type": "hangup"}', 1008), ("{", 1007)],
    ids=["audio", "hangup", "broken json"],
)
def test_anything_but_register_first_closes_the_socket(
    browser: TestClient, phones: FakePhoneExchange, first: str | bytes, code: int
) -> None:
    with connect(browser) as ws:
        if isinstance(first, bytes):
            ws.send_bytes(first)
        else:
            ws.send_text(first)
        assert close_of(ws)[0] == code
    assert phones.phones == {}


def test_a_message_nested_a_thousand_deep_closes_the_socket_with_a_reason(
    browser: TestClient, phones: FakePhoneExchange
) -> None:
    with connect(browser) as ws:
        registered(ws)
        phone = phones.phone(DEFAULT_NUMBER)
        ws.send_text("[" * 1000 + "]" * 1000)
        code, reason = close_of(ws)
    assert code == 1007
    assert "flat JSON objects" in reason
    assert phone.closed.wait(3)


def test_a_deep_message_as_the_first_one_is_refused_before_registering(
    browser: TestClient, phones: FakePhoneExchange
) -> None:
    with connect(browser) as ws:
        ws.send_text('{"type": "register", "x": ' + "{" * 500 + "}" * 500 + "}")
        assert close_of(ws)[0] == 1007
    assert phones.registrations == 0


REGISTER_CYCLES = 200


def test_register_and_close_cycles_half_closed_before_the_reply_all_end_cleanly(
    browser: TestClient, phones: FakePhoneExchange
) -> None:
    phones.release_delay_sec = 0.002  # the dialer's release lags the browser's close
    for cycle in range(REGISTER_CYCLES):
        with connect(browser) as ws:
            ws.send_text(json.dumps({"type": "register"}))
            if cycle % 2 == 0:
                assert ws.receive_json()["type"] == "registered", cycle
            # odd cycles: closed before the reply

    eventually(lambda: phones.phones == {})
    assert phones.refusals == 0
    # A socket closed before the reply may be gone before its register is read.
    assert phones.registrations >= REGISTER_CYCLES // 2
    with connect(browser) as ws:
        assert registered(ws)["number"] == DEFAULT_NUMBER


def test_unknown_types_and_a_second_register_are_answered_with_an_error_and_ignored(
    browser: TestClient, phones: FakePhoneExchange
) -> None:
    with connect(browser) as ws:
        phone = in_call(ws, phones)
        ws.send_text(json.dumps({"type": "dance"}))
        assert "unknown type 'dance'" in ws.receive_json()["message"]
        ws.send_text(json.dumps({"type": "register"}))
        assert ws.receive_json()["type"] == "error"
        ws.send_bytes(FRAME)
        eventually(lambda: AudioFrame(FRAME) in phone.sent)


def test_garbage_on_one_softphone_leaves_another_ones_call_alone(
    browser: TestClient, phones: FakePhoneExchange
) -> None:
    with connect(browser) as good:
        phone = in_call(good, phones)
        with connect(browser) as bad:
            registered(bad, "+14155550123")
            bad.send_bytes(b"\x00")
            assert close_of(bad)[0] == 1003
        phone.push(AudioFrame(pcm=FRAME))
        assert good.receive_bytes() == FRAME
        good.send_bytes(FRAME)
        eventually(lambda: AudioFrame(FRAME) in phone.sent)
    eventually(lambda: phones.phones == {})  # released by a task that outlives the socket


def test_without_a_phone_line_the_socket_says_so(
    settings: Settings, backend: InMemoryCallBackend
) -> None:
    with (
        TestClient(create_app(settings, backend)) as client,
        connect(client) as ws,
    ):
        assert close_of(ws)[0] == 1013


# The gRPC edge of the line: lib's PhoneClient (tests/lib/test_phone_client.py) and the
# store's transcript (the wire itself is exercised by tests/cluster/test_softphone.py).


def test_the_grpc_edge_reads_spoken_messages_of_the_transcript() -> None:
    said = CallEvent(
        "c",
        7,
        NOW,
        domain.Message(
            seq=3,
            persona=domain.Persona.HUMAN,
            action=domain.MessageAction.TALK,
            content="It happened yesterday.",
        ),
    )
    assert transcript_line(said) == TranscriptLine(3, "caller", "It happened yesterday.")
    tool = CallEvent("c", 8, NOW, domain.Message(seq=4, persona=domain.Persona.TOOL, content="{}"))
    assert transcript_line(tool) is None
    assert transcript_line(CallEvent("c", 9, NOW, domain.CallState.ENDED)) is None
