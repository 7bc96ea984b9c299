"""The bot's touch tones on an ACS call: the SDK's sendDtmfTones against the local fake."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from switchboard.errors import NotFound
from switchboard_dialer.telephony.acs.calls import AcsCalls
from switchboard_testing.fake_acs import AcsSigner, Callee, FakeAcs, FakeCall
from switchboard_testing.ports import free_tcp_port

CALLEE = "+14155550142"


@pytest.fixture
async def acs() -> AsyncIterator[tuple[FakeAcs, AcsCalls]]:
    fake = FakeAcs(free_tcp_port(), AcsSigner(), gateway_url="http://127.0.0.1:9")
    await fake.start()
    calls = AcsCalls(fake.endpoint, "a2V5", "+18005550100")
    try:
        yield fake, calls
    finally:
        await calls.close()
        await fake.stop()


async def test_keys_go_to_the_callee_as_named_tones(acs: tuple[FakeAcs, AcsCalls]) -> None:
    fake, calls = acs
    fake.calls["conn-1"] = FakeCall("conn-1", "", "", CALLEE, "outbound", Callee())

    await calls.send_dtmf("conn-1", CALLEE, "0123456789*#ABCD")

    call = fake.calls["conn-1"]
    assert (call.tones_from_bot, call.tones_to) == ("0123456789*#ABCD", [CALLEE])


async def test_tones_on_a_call_acs_no_longer_knows_are_a_domain_error(
    acs: tuple[FakeAcs, AcsCalls],
) -> None:
    _, calls = acs
    with pytest.raises(NotFound):
        await calls.send_dtmf("gone", CALLEE, "1")
