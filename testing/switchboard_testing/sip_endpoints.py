"""Our own SIP endpoints for tests: loopback, fast timers, the test peers as the trunk."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from switchboard_dialer.telephony.sip import SipEndpoint, Timers
from switchboard_dialer.telephony.sip.admission import InboundPolicy
from switchboard_testing.sip_peers import HOST

FAST = Timers(t1=0.1, t2=0.4, t4=0.5)
# The peers of these tests (our endpoints, baresip, sipp, kamailio) are the trunk: they
# all send from 127.0.0.1. Strangers are tested from other loopback addresses (127.0.0.2).
TRUNK_ON_LOOPBACK = InboundPolicy(sources=(HOST,))
# The ``make_endpoint`` fixture: ``SipConfig`` fields as keywords → a started endpoint.
EndpointFactory = Callable[..., Awaitable[SipEndpoint]]
