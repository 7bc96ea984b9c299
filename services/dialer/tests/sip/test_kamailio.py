"""Through kamailio as registrar and proxy: REGISTER with 401, INVITE with 407."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from switchboard_dialer.telephony.sip.registration import RegistrationError
from switchboard_testing.peer_apps import Baresip, Kamailio
from switchboard_testing.sip_endpoints import EndpointFactory
from switchboard_testing.sip_peers import collect_audio, dominant_frequency, tone

PASSWORD = "s3cret-test"


async def test_two_registered_endpoints_call_each_other_through_the_proxy(
    make_endpoint: EndpointFactory, tmp_path: Path
) -> None:
    async with Kamailio(tmp_path, PASSWORD) as proxy:
        trunk = {"trunk_host": "127.0.0.1", "trunk_port": proxy.port, "password": PASSWORD}
        alice = await make_endpoint(user="alice", register=True, **trunk)
        bob = await make_endpoint(user="bob", register=True, **trunk)
        assert alice.registration is not None and alice.registration.registered
        call = await alice.call("bob")
        incoming = await asyncio.wait_for(bob.inbound.get(), 5)
        incoming.ring()
        await incoming.answer()
        await asyncio.wait_for(call.wait_answered(), 5)
        assert call.dialog is not None and call.dialog.route_set  # kamailio record-routed
        call.send_audio(tone(440, 1.5))
        heard = await asyncio.wait_for(collect_audio(incoming.audio_in(), 1.0), 5)
        assert abs(dominant_frequency(heard[1600:]) - 440) < 15
        await call.hang_up()
        assert await asyncio.wait_for(incoming.ended, 3) == "remote_hangup"
        await alice.close()  # unregisters while the registrar is still there
        await bob.close()


async def test_a_wrong_password_is_refused_at_registration(
    make_endpoint: EndpointFactory, tmp_path: Path
) -> None:
    async with Kamailio(tmp_path, PASSWORD) as proxy:
        with pytest.raises(RegistrationError) as refused:
            await make_endpoint(
                user="mallory",
                register=True,
                trunk_host="127.0.0.1",
                trunk_port=proxy.port,
                password="wrong",
            )
        assert refused.value.status in (401, 403)


async def test_we_reach_a_registered_baresip_through_the_proxy(
    make_endpoint: EndpointFactory, tmp_path: Path
) -> None:
    async with Kamailio(tmp_path, PASSWORD) as proxy:
        async with Baresip(tmp_path, user="carol", registrar_port=proxy.port, password=PASSWORD):
            bot = await make_endpoint(
                user="bot",
                register=True,
                trunk_host="127.0.0.1",
                trunk_port=proxy.port,
                password=PASSWORD,
            )
            for _ in range(50):  # baresip registers on its own schedule
                call = await bot.call("carol")
                try:
                    await asyncio.wait_for(call.wait_answered(), 5)
                    break
                except Exception:
                    await asyncio.sleep(0.1)
            heard = await asyncio.wait_for(collect_audio(call.audio_in(), 1.0), 5)
            assert abs(dominant_frequency(heard[1600:]) - 440) < 15
            await call.hang_up()
            await bot.close()
