"""Caller ID is not authentication, over SIP: a stranger's INVITE with a victim's number
in ``From`` neither reopens the victim's finished call nor hears a stored value.

The victim's calls are seeded in the store (over its gRPC API); the stranger is a
``SipEndpoint`` of the dialer's own SIP stack, calling the dialer on loopback. What the
bot said is read from the stored transcript of the stranger's call.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from switchboard import domain
from switchboard.store_client import StoreClient
from switchboard_cli.launcher import Cluster
from switchboard_dialer.telephony.sip import SipConfig, SipEndpoint
from switchboard_testing.ports import HOST, free_rtp_range, free_udp_port
from tests.cluster.harness import started_cluster, unique_number
from tests.cluster.test_log_hygiene import E164, EMAIL

BOT_NUMBER = "+18005550100"
REQUEST = domain.CallRequest(
    bot_company="Contoso Insurance",
    bot_name="Joe",
    phone_number="+14155550000",  # replaced per test
    agent_phone_number="+14155550199",
    task="Help the customer file a claim for the water damage in their kitchen.",
    claim=(
        domain.ClaimField(name="policyholder_email", type=domain.ClaimFieldType.EMAIL),
        domain.ClaimField(name="incident_description", type=domain.ClaimFieldType.TEXT),
    ),
)
VALUES = {
    "policyholder_email": "victim@example.org",
    "incident_description": "A pipe burst in the kitchen.",
}
SECRETS = ("victim", "example", "pipe", "kitchen")
GREETING_WAIT_SEC = 40.0


@pytest.fixture(scope="module")
def sip_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cluster, int]]:
    root = tmp_path_factory.mktemp("sip-caller-id")
    sip_port = free_udp_port()
    low, high = free_rtp_range(20)
    with started_cluster(
        root,
        {
            "SWITCHBOARD__DIALER__TELEPHONY": "sip",
            "SWITCHBOARD__DIALER__SIP__HOST": HOST,  # the trunk: the stranger comes from it
            "SWITCHBOARD__DIALER__SIP__BIND_HOST": HOST,
            "SWITCHBOARD__DIALER__SIP__BIND_PORT": str(sip_port),
            "SWITCHBOARD__DIALER__SIP__RTP_PORT_MIN": str(low),
            "SWITCHBOARD__DIALER__SIP__RTP_PORT_MAX": str(high),
        },
    ) as cluster:
        yield cluster, sip_port


async def _seed_victim(store: StoreClient, number: str, finished: bool) -> domain.Call:
    """A call of ``number`` that talked, filled the claim (all of it when ``finished``)
    and ended (with claim_complete when ``finished``, else the caller hung up)."""
    call = await store.create_call(
        REQUEST.model_copy(update={"phone_number": number}), domain.CallDirection.OUTBOUND
    )
    for state in (domain.CallState.DIALING, domain.CallState.IN_PROGRESS):
        await store.set_call_state(call.call_id, state)
    said = "It's victim at example dot org, a pipe burst in the kitchen."
    await store.append_messages(
        call.call_id, [domain.Message(persona=domain.Persona.HUMAN, content=said, turn_id="v1")]
    )
    values = VALUES if finished else {"policyholder_email": VALUES["policyholder_email"]}
    await store.update_claim(call.call_id, values)
    reason = "claim_complete" if finished else "caller_hangup"
    return await store.set_call_state(call.call_id, domain.CallState.ENDED, reason)


async def _stranger_calls(store: StoreClient, number: str, sip_port: int) -> domain.Call:
    """A SIP INVITE with ``number`` in From; returns the call the bot talked on once it
    has said something, then hangs up."""
    stranger = SipEndpoint(
        SipConfig(bind_host=HOST, bind_port=0, user=number, rtp_ports=free_rtp_range(20))
    )
    await stranger.start()
    try:
        sip_call = await stranger.call(f"sip:{BOT_NUMBER}@{HOST}:{sip_port}")
        await asyncio.wait_for(sip_call.wait_answered(), 10)
        deadline = time.monotonic() + GREETING_WAIT_SEC
        while True:
            calls, _ = await store.list_calls(number, limit=5)
            newest = await store.get_call(calls[0].call_id)
            spoken = [m for m in newest.messages if m.persona is domain.Persona.ASSISTANT]
            if spoken and newest.state is domain.CallState.IN_PROGRESS:
                break
            assert time.monotonic() < deadline, "the bot said nothing to the stranger"
            await asyncio.sleep(0.2)
        await sip_call.hang_up()
        return newest
    finally:
        await stranger.close()


async def _scenario(cluster: Cluster, sip_port: int, finished: bool) -> tuple[str, domain.Call]:
    store = StoreClient(cluster.ports.grpc_address("store"))
    try:
        number = unique_number()
        victim = await _seed_victim(store, number, finished)
        return victim.call_id, await _stranger_calls(store, number, sip_port)
    finally:
        await store.close()


def _bot_words(call: domain.Call) -> str:
    return " ".join(m.content for m in call.messages if m.persona is domain.Persona.ASSISTANT)


def test_a_spoofed_sip_caller_gets_a_new_call_not_the_victims_finished_one(
    sip_cluster: tuple[Cluster, int],
) -> None:
    victim_id, stranger_call = asyncio.run(_scenario(*sip_cluster, finished=True))

    assert stranger_call.call_id != victim_id
    assert stranger_call.claim == {}
    spoken = _bot_words(stranger_call)
    assert not [s for s in SECRETS if s in spoken], spoken


def test_a_spoofed_sip_caller_resuming_an_unfinished_call_is_asked_and_hears_no_value(
    sip_cluster: tuple[Cluster, int],
) -> None:
    victim_id, stranger_call = asyncio.run(_scenario(*sip_cluster, finished=False))

    assert stranger_call.call_id == victim_id  # unfinished: the callback may resume it
    spoken = _bot_words(stranger_call)
    assert "Shall we continue where we left off?" in spoken
    # "the water damage in your kitchen" names the matter (the task), not a value
    assert not [s for s in ("victim", "example", "pipe") if s in spoken], spoken


def test_no_service_logged_a_number_or_an_address_of_the_sip_calls(
    sip_cluster: tuple[Cluster, int],
) -> None:
    asyncio.run(_scenario(*sip_cluster, finished=False))  # at least one call, even alone
    cluster, _ = sip_cluster
    assert cluster.log_dir is not None
    logged = {p.stem: p.read_text(errors="replace") for p in cluster.log_dir.glob("*.log")}
    assert set(logged) >= {"dialer", "brain", "store"}
    leaks = [
        f"{service}: {line[:300]}"
        for service, text in logged.items()
        for line in text.splitlines()
        if E164.search(line) or EMAIL.search(line) or any(s in line for s in SECRETS)
    ]
    assert leaks == [], "\n".join(leaks[:20])
