"""The ``sip`` telephony provider: our own asyncio SIP/RTP stack over UDP.

Why not pjsua2? ``pjsua2-python`` 2.15.1 does ship a cp311 manylinux wheel, and it
called baresip fine here. But it is a C library behind SWIG: it runs its own threads
and event loop (every callback hops threads into asyncio), it bundles OpenSSL 1.0.2k,
its failures are segfaults rather than tracebacks, and its parser cannot be driven
with the malformed datagrams we must survive. What a phone agent needs from SIP is
small — UDP, INVITE/CANCEL/BYE/REFER, digest auth, REGISTER, G.711, RFC 4733 — so an
asyncio stack is a few small modules, typed (mypy strict), testable on a controllable
clock, debuggable with a stack trace, and installs with no native build.

How the modules fit, from the bottom up (each imports only from the lines above it;
``lint-imports`` checks it with the layers contract in pyproject.toml):

- wire formats: ``message`` (parse/serialise with limits), ``address`` (URIs,
  name-addr, Via), ``digest`` (401/407), ``g711`` (numpy tables), ``rtp_packet``,
  ``rtp_source`` (RFC 3550 sequence validation per SSRC), ``dtmf`` (RFC 4733),
  ``log_budget`` (a flood is not a log flood), ``tasks``; then ``sdp`` (offer/answer)
- ``transaction`` (timers A/B/E/F, response retransmission), ``admission`` (who may
  call in: trusted sources, a digest challenge, call caps, where media may go)
- ``transport`` (UDP, 400 for bad requests), ``dialog`` (tags, CSeq, route set),
  ``rtp`` (paced stream), ``config``
- ``context`` (:class:`SipContext`: what the procedures need from the user agent)
- ``call`` (one call's state, media, in-dialog requests; its direction's
  :class:`CallControl` is injected)
- the procedures: ``uac`` (outbound INVITE), ``uas`` (inbound INVITE), ``transfer``
  (REFER or bridge), ``registration`` (REGISTER and refresh)
- ``endpoint`` (:class:`SipEndpoint`: the user agent, a :class:`SipContext`)
- ``provider`` (the dialer's :class:`~switchboard_dialer.telephony.base.TelephonyProvider`)
"""

from switchboard_dialer.telephony.sip.admission import InboundPolicy
from switchboard_dialer.telephony.sip.call import (
    CallControl,
    CallFailed,
    CallProgress,
    CallState,
    SipCall,
)
from switchboard_dialer.telephony.sip.config import SipConfig
from switchboard_dialer.telephony.sip.context import SipContext
from switchboard_dialer.telephony.sip.endpoint import SipEndpoint
from switchboard_dialer.telephony.sip.transaction import Timers

__all__ = [
    "CallControl",
    "CallFailed",
    "CallProgress",
    "CallState",
    "InboundPolicy",
    "SipCall",
    "SipConfig",
    "SipContext",
    "SipEndpoint",
    "Timers",
]
