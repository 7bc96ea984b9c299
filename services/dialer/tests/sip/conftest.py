"""SIP test fixtures: endpoints on free loopback ports with fast timers, and peers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from switchboard_dialer.telephony.sip import SipConfig, SipEndpoint
from switchboard_testing.ports import free_rtp_range
from switchboard_testing.sip_endpoints import FAST, TRUNK_ON_LOOPBACK, EndpointFactory
from switchboard_testing.sip_peers import HOST


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
