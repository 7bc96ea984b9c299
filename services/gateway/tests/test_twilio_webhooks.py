"""Twilio's webhooks at the gateway: signatures, call tokens, TwiML, what reaches the dialer."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qsl

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect
from twilio.request_validator import RequestValidator

from switchboard.carrier_tokens import call_token, route_value
from switchboard.config import Settings, TwilioSettings
from switchboard.phone import PhoneAttach
from switchboard_gateway.app import create_app
from switchboard_gateway.carrier_link import AnsweredCall
from switchboard_gateway.memory_backend import InMemoryCallBackend
from switchboard_gateway.phone_link import PhoneStream
from switchboard_gateway.twilio_link import TwilioSignatures

TOKEN = "12345"
PUBLIC = "https://voice.example.com"


class RecordingDialer:
    """The dialer as the Twilio routes reach it (a CarrierLink), recording each call."""

    def __init__(self) -> None:
        self.answered: list[tuple[str, ...]] = []
        self.statuses: list[tuple[str, ...]] = []
        self.routes: list[str] = []
        self.replica = ""  # the answering replica's advertised address

    async def attach(self, attach: PhoneAttach, route: str = "") -> PhoneStream:
        raise AssertionError("no media stream expected")

    async def answer_call(
        self, provider: str, from_number: str, to_number: str, provider_call_id: str
    ) -> AnsweredCall:
        self.answered.append((provider, from_number, to_number, provider_call_id))
        return AnsweredCall("call-7", self.replica)

    async def webhook(
        self, provider: str, kind: str, call_id: str, token: str, body: bytes, route: str = ""
    ) -> int:
        form = dict(parse_qsl(body.decode()))
        status = form.get("CallStatus", "")
        self.statuses.append((provider, kind, call_id, token, form.get("CallSid", ""), status))
        self.routes.append(route)
        return 1

    async def close(self) -> None:
        pass


@pytest.fixture
def dialer() -> RecordingDialer:
    return RecordingDialer()


@pytest.fixture
def twilio(dialer: RecordingDialer, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
    settings = Settings.model_validate(
        {
            "gateway": {"api_keys": ["k" * 20]},
            "dialer": {"telephony": "twilio", "twilio": {"public_url": PUBLIC}},
        }
    )
    app = create_app(settings, InMemoryCallBackend(), carriers=dialer)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def signed(url: str, params: dict[str, str]) -> dict[str, str]:
    return {"X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(url, params)}


def status_path(call_id: str = "call-1", token: str | None = None) -> str:
    return f"/twilio/status?call_id={call_id}&token={token or call_token(TOKEN, call_id, 'status')}"


def test_twilios_documented_signature_example_validates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
    signatures = TwilioSignatures(TwilioSettings(public_url="https://mycompany.com"))
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+12349013030",
        "Digits": "1234",
        "From": "+12349013030",
        "To": "+18005551212",
    }
    url = signatures.url("/myapp.php", "foo=1&bar=2")
    assert signatures.valid(url, params, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
    assert not signatures.valid(url, {**params, "Digits": "9"}, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")


def test_a_signed_status_callback_reaches_the_dialer(
    twilio: TestClient, dialer: RecordingDialer
) -> None:
    params = {"CallSid": "CA1", "CallStatus": "busy"}
    path = status_path()
    reply = twilio.post(path, data=params, headers=signed(PUBLIC + path, params))
    assert reply.status_code == 204
    token = call_token(TOKEN, "call-1", "status")
    assert dialer.statuses == [("twilio", "status", "call-1", token, "CA1", "busy")]


def test_a_status_callback_goes_to_the_dialer_its_signed_route_names(
    twilio: TestClient, dialer: RecordingDialer
) -> None:
    params = {"CallSid": "CA1", "CallStatus": "completed"}
    route = route_value(TOKEN, "call-1", "10.0.0.8:50051")
    path = status_path() + f"&dialer={route}"
    reply = twilio.post(path, data=params, headers=signed(PUBLIC + path, params))
    assert reply.status_code == 204
    assert dialer.routes == ["10.0.0.8:50051"]
    # A route signed for another call, or made up, is refused: no channel to it is opened.
    for forged in (route_value(TOKEN, "call-2", "10.0.0.8:50051"), "evil.example:443~00"):
        path = status_path() + f"&dialer={forged}"
        reply = twilio.post(path, data=params, headers=signed(PUBLIC + path, params))
        assert reply.status_code == 403
    assert dialer.routes == ["10.0.0.8:50051"]


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"}],
    ids=["missing", "wrong"],
)
def test_a_status_callback_without_a_valid_signature_is_refused(
    twilio: TestClient, dialer: RecordingDialer, headers: dict[str, str]
) -> None:
    reply = twilio.post(
        status_path(), data={"CallSid": "CA1", "CallStatus": "busy"}, headers=headers
    )
    assert reply.status_code == 403
    assert dialer.statuses == []


def test_a_signed_callback_with_another_calls_token_is_refused(
    twilio: TestClient, dialer: RecordingDialer
) -> None:
    params = {"CallSid": "CA1", "CallStatus": "completed"}
    path = status_path("call-1", token=call_token(TOKEN, "call-2", "status"))
    reply = twilio.post(path, data=params, headers=signed(PUBLIC + path, params))
    assert reply.status_code == 403
    assert dialer.statuses == []


def test_a_changed_parameter_breaks_the_signature(
    twilio: TestClient, dialer: RecordingDialer
) -> None:
    path = status_path()
    headers = signed(PUBLIC + path, {"CallSid": "CA1", "CallStatus": "ringing"})
    reply = twilio.post(path, data={"CallSid": "CA1", "CallStatus": "completed"}, headers=headers)
    assert reply.status_code == 403


def test_the_voice_webhook_answers_with_a_stream_to_the_calls_media_socket(
    twilio: TestClient, dialer: RecordingDialer
) -> None:
    params = {"CallSid": "CA9", "From": "+14155550123", "To": "+14155550100"}
    reply = twilio.post(
        "/twilio/voice", data=params, headers=signed(PUBLIC + "/twilio/voice", params)
    )
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/xml")
    assert '<Stream url="wss://voice.example.com/twilio/media/call-7">' in reply.text
    assert f'<Parameter name="token" value="{call_token(TOKEN, "call-7")}" />' in reply.text
    assert dialer.answered == [("twilio", "+14155550123", "+14155550100", "CA9")]
    # One replica advertising no address: no route, the socket goes to services.dialer.
    assert 'name="dialer"' not in reply.text


def test_an_inbound_calls_stream_carries_the_signed_route_to_the_replica_that_answered(
    twilio: TestClient, dialer: RecordingDialer
) -> None:
    dialer.replica = "10.0.0.9:50051"
    params = {"CallSid": "CA9", "From": "+14155550123", "To": "+14155550100"}
    reply = twilio.post(
        "/twilio/voice", data=params, headers=signed(PUBLIC + "/twilio/voice", params)
    )
    assert reply.status_code == 200
    route = route_value(TOKEN, "call-7", "10.0.0.9:50051")
    assert f'<Parameter name="dialer" value="{route}" />' in reply.text


def test_an_unsigned_voice_webhook_takes_no_call(
    twilio: TestClient, dialer: RecordingDialer
) -> None:
    reply = twilio.post("/twilio/voice", data={"CallSid": "CA9", "From": "+14155550123"})
    assert reply.status_code == 403
    assert dialer.answered == []


def test_an_unsigned_media_socket_is_refused_before_the_handshake(twilio: TestClient) -> None:
    with pytest.raises(WebSocketDisconnect) as refused:
        with twilio.websocket_connect("/twilio/media/call-1"):
            pass
    assert refused.value.code == 1008


def test_without_the_twilio_provider_the_routes_do_not_exist(
    dialer: RecordingDialer,
) -> None:
    app = create_app(Settings(), InMemoryCallBackend(), carriers=dialer)
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.post("/twilio/voice", data={"CallSid": "CA1"}).status_code == 404
