"""SIP test fixtures: endpoints on free loopback ports with fast timers, and peers."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from sip_peers import HOST, free_rtp_range

from switchboard_dialer.telephony.sip import SipConfig, SipEndpoint, Timers
from switchboard_dialer.telephony.sip.admission import InboundPolicy

FAST = Timers(t1=0.1, t2=0.4, t4=0.5)
# The peers of these tests (our endpoints, baresip, sipp, kamailio) are the trunk: they
# all send from 127.0.0.1. Strangers are tested from other loopback addresses (127.0.0.2).
TRUNK_ON_LOOPBACK = InboundPolicy(sources=(HOST,))
EndpointFactory = Callable[..., Awaitable[SipEndpoint]]


@pytest.fixture
async def make_endpoint() -> AsyncIterator[EndpointFactory]:
    """Builds started endpoints (``SipConfig`` fields as keywords); closes them after the test."""
    started: list[SipEndpoint] = []

    async def make(**fields: Any) -> SipEndpoint:
        fields.setdefault("bind_host", HOST)
        fields.setdefault("bind_port", 0)
        fields.setdefault("rtp_ports", free_rtp_range(20))
        fields.setdefault("timers", FAST)
        fields.setdefault("inbound", TRUNK_ON_LOOPBACK)
        endpoint = SipEndpoint(SipConfig(**fields))
        started.append(endpoint)
        return await endpoint.start()

    yield make
    for endpoint in started:
        await endpoint.close()
