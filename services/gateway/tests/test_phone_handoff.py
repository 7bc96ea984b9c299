"""One number's softphone lines follow each other, even when the dialer releases the
previous line only after the gateway has closed it."""

from __future__ import annotations

import pytest

from switchboard.errors import AlreadyExists
from switchboard_gateway.phone_handoff import HandoffExchange
from switchboard_testing.phone_fakes import FakePhoneExchange

NUMBER = "+10000000001"


async def test_a_new_line_waits_for_the_dialer_to_release_the_previous_one() -> None:
    dialer = FakePhoneExchange()
    dialer.release_after_close_sec = 0.2
    exchange = HandoffExchange(dialer)

    first = await exchange.register(NUMBER)
    await first.close()
    second = await exchange.register(NUMBER)

    assert second.number == NUMBER
    assert dialer.registrations == 2 and dialer.refusals >= 1
    await second.close()


async def test_a_number_held_by_another_gateway_is_still_refused() -> None:
    dialer = FakePhoneExchange()
    await dialer.register(NUMBER)  # no line of this gateway: no handoff to wait for
    exchange = HandoffExchange(dialer, wait_sec=0.3)

    with pytest.raises(AlreadyExists):
        await exchange.register(NUMBER)
    assert dialer.refusals == 1
