"""The ``sip`` telephony provider: our own asyncio SIP/RTP stack over UDP.

Why not pjsua2? ``pjsua2-python`` 2.15.1 does ship a cp311 manylinux wheel, and it
called baresip fine here. But it is a C library behind SWIG: it runs its own threads
and event loop (every callback hops threads into asyncio), it bundles OpenSSL 1.0.2k,
its failures are segfaults rather than tracebacks, and its parser cannot be driven
with the malformed datagrams we must survive. What a phone agent needs from SIP is
small — UDP, INVITE/CANCEL/BYE/REFER, digest auth, REGISTER, G.711, RFC 4733 — so an
asyncio stack is a few small modules, typed (mypy strict), testable on a controllable
clock, debuggable with a stack trace, and installs with no native build.

How the modules fit:

- ``message`` (parse/serialise with limits) → ``address`` (URIs, name-addr, Via)
- ``transaction`` (timers A/B/E/F, response retransmission) over ``transport`` (UDP,
  400 for bad requests)
- ``dialog`` (tags, CSeq, route set), ``digest`` (401/407), ``registration``
- ``sdp`` (offer/answer), ``g711`` (numpy tables), ``rtp_packet`` + ``rtp`` (paced
  stream), ``dtmf`` (RFC 4733)
- ``call`` (one call's state, media, in-dialog requests), ``uac`` (outbound INVITE),
  ``uas`` (inbound INVITE), ``transfer`` (REFER or bridge)
- ``endpoint`` (:class:`SipEndpoint`: the user agent) and ``provider`` (the dialer's
  :class:`~switchboard_dialer.telephony.base.TelephonyProvider`)
"""

from switchboard_dialer.telephony.sip.call import CallFailed, CallProgress, CallState, SipCall
from switchboard_dialer.telephony.sip.config import SipConfig
from switchboard_dialer.telephony.sip.endpoint import SipEndpoint
from switchboard_dialer.telephony.sip.transaction import Timers

__all__ = [
    "CallFailed",
    "CallProgress",
    "CallState",
    "SipCall",
    "SipConfig",
    "SipEndpoint",
    "Timers",
]
