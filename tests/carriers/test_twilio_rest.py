"""The dialer's Twilio REST client, the real ``twilio`` SDK, against the fake Twilio."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from switchboard.config import TwilioSettings
from switchboard.errors import InvalidArgument, Unavailable
from switchboard_dialer.telephony.twilio_rest import TwilioRest
from switchboard_testing.fake_twilio import FakeTwilio

ACCOUNT = "AC" + "ab" * 16


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    twilio = FakeTwilio(ACCOUNT, "token-1")
    twilio.start()
    yield twilio
    twilio.stop()


def rest(fake: FakeTwilio, monkeypatch: pytest.MonkeyPatch, token: str = "token-1") -> TwilioRest:
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", token)
    return TwilioRest(
        TwilioSettings(
            account_sid=ACCOUNT,
            from_number="+14155550100",
            public_url="https://voice.example.com",
            api_base_url=fake.base_url,
        )
    )


async def test_a_call_is_created_with_basic_auth_and_form_fields(
    fake: FakeTwilio, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = rest(fake, monkeypatch)
    sid = await client.create_call("+14155550123", "<Response/>", "https://cb", "Enable")
    request = fake.requests[-1]
    assert request.authorized and request.path.endswith(f"/Accounts/{ACCOUNT}/Calls.json")
    assert request.lists["StatusCallbackEvent"] == ["initiated", "ringing", "answered", "completed"]
    assert fake.calls[sid].params["AsyncAmd"] == "true"
    await client.update_call(sid, status="completed")
    assert fake.calls[sid].updates == [{"Status": "completed"}]


async def test_a_refused_request_is_invalid_argument_and_a_dead_host_unavailable(
    fake: FakeTwilio, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(InvalidArgument):
        await rest(fake, monkeypatch, token="wrong").send_message("+14155550123", "hi")
    client = rest(fake, monkeypatch)
    fake.stop()
    with pytest.raises(Unavailable):
        await client.send_message("+14155550123", "hi")
