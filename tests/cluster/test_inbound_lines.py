"""Inbound calls take who the bot is from config, per dialled number, and are answered
whatever the caller ID looks like: E.164, national format, withheld, or a SIP name.

The callers are ``SipEndpoint`` s of the dialer's own SIP stack calling the dialer on
loopback; what the dialer made of each call is read from the store.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
import yaml

from switchboard import domain
from switchboard.store_client import StoreClient
from switchboard_cli.launcher import Cluster
from switchboard_dialer.telephony.sip import SipConfig, SipEndpoint
from switchboard_testing.ports import HOST, free_rtp_range, free_udp_port
from tests.cluster.harness import started_cluster

SALES = "+18005550111"  # has its own line in config
OTHER = "+18005550122"  # falls back to the default line
INBOUND = {
    "default_region": "US",
    "default": {
        "bot_company": "Fabrikam",
        "bot_name": "Ada",
        "task": "Take a message for the front desk.",
        "claim": [{"name": "caller_name", "description": "your name"}],
    },
    "numbers": {
        SALES: {
            "bot_company": "Contoso Sales",
            "bot_name": "Joe",
            "task": "Find out which product the caller wants a quote for.",
            "lang": "en-GB",
            "agent_phone_number": "+1 415 555 0199",
            "claim": [
                {"name": "product", "description": "the product"},
                {"name": "callback_number", "type": "phone_number"},
            ],
        }
    },
}
ANSWER_WAIT_SEC = 40.0


@pytest.fixture(scope="module")
def sip_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cluster, int]]:
    root = tmp_path_factory.mktemp("sip-inbound-lines")
    config = root / "switchboard.yaml"
    config.write_text(yaml.safe_dump({"dialer": {"inbound": INBOUND}}))
    sip_port = free_udp_port()
    low, high = free_rtp_range(20)
    with started_cluster(
        root,
        {
            "SWITCHBOARD_CONFIG": str(config),
            "SWITCHBOARD__DIALER__TELEPHONY": "sip",
            "SWITCHBOARD__DIALER__SIP__HOST": HOST,  # the trunk: the callers come from it
            "SWITCHBOARD__DIALER__SIP__BIND_HOST": HOST,
            "SWITCHBOARD__DIALER__SIP__BIND_PORT": str(sip_port),
            "SWITCHBOARD__DIALER__SIP__RTP_PORT_MIN": str(low),
            "SWITCHBOARD__DIALER__SIP__RTP_PORT_MAX": str(high),
        },
    ) as cluster:
        yield cluster, sip_port


async def _inbound_call(cluster: Cluster, sip_port: int, caller: str, dialled: str) -> domain.Call:
    """``caller`` (the user part of SIP From) calls ``dialled``; returns the new stored
    call once the bot has answered, then hangs up."""
    store = StoreClient(cluster.ports.grpc_address("store"))
    endpoint = SipEndpoint(
        SipConfig(bind_host=HOST, bind_port=0, user=caller, rtp_ports=free_rtp_range(20))
    )
    await endpoint.start()
    try:
        before = {c.call_id for c in (await store.list_calls(limit=100))[0]}
        sip_call = await endpoint.call(f"sip:{dialled}@{HOST}:{sip_port}")
        await asyncio.wait_for(sip_call.wait_answered(), 10)
        deadline = time.monotonic() + ANSWER_WAIT_SEC
        while True:
            new = [c for c in (await store.list_calls(limit=100))[0] if c.call_id not in before]
            if new and new[0].state is domain.CallState.IN_PROGRESS:
                break
            assert time.monotonic() < deadline, "the inbound call never went in progress"
            await asyncio.sleep(0.2)
        await sip_call.hang_up()
        return await store.get_call(new[0].call_id)
    finally:
        await endpoint.close()
        await store.close()


def test_a_configured_number_answers_with_its_own_bot_task_claim_and_agent(
    sip_cluster: tuple[Cluster, int],
) -> None:
    call = asyncio.run(_inbound_call(*sip_cluster, caller="+14155550123", dialled=SALES))

    initiate = call.initiate
    assert call.direction is domain.CallDirection.INBOUND
    assert (initiate.bot_company, initiate.bot_name, initiate.lang) == (
        "Contoso Sales",
        "Joe",
        "en-GB",
    )
    assert initiate.task == INBOUND["numbers"][SALES]["task"]  # type: ignore[index]
    assert [(f.name, f.type.value) for f in initiate.claim] == [
        ("product", "text"),
        ("callback_number", "phone_number"),
    ]
    assert initiate.agent_phone_number == "+14155550199"  # read into E.164 at startup
    assert initiate.phone_number == "+14155550123"


def test_another_number_answers_with_the_default_line_and_reads_a_national_caller_id(
    sip_cluster: tuple[Cluster, int],
) -> None:
    call = asyncio.run(_inbound_call(*sip_cluster, caller="4155550124", dialled=OTHER))

    assert (call.initiate.bot_company, call.initiate.bot_name) == ("Fabrikam", "Ada")
    assert call.initiate.agent_phone_number == ""  # nobody to transfer to on this line
    assert call.initiate.phone_number == "+14155550124"  # national format, region US


@pytest.mark.parametrize("caller", ["anonymous", "alice"])
def test_a_withheld_or_named_caller_is_answered_and_never_resumes_another_call(
    sip_cluster: tuple[Cluster, int], caller: str
) -> None:
    first = asyncio.run(_inbound_call(*sip_cluster, caller=caller, dialled=SALES))
    second = asyncio.run(_inbound_call(*sip_cluster, caller=caller, dialled=SALES))

    assert first.initiate.phone_number == second.initiate.phone_number == ""
    assert first.call_id != second.call_id  # nothing to resume by
