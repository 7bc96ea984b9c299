"""What a SIP endpoint needs to know: where it listens and which trunk it uses."""

from __future__ import annotations

from dataclasses import dataclass, field

from switchboard_dialer.telephony.sip.admission import InboundPolicy
from switchboard_dialer.telephony.sip.g711 import Codec
from switchboard_dialer.telephony.sip.transaction import Timers


@dataclass(frozen=True)
class SipConfig:
    """One endpoint: local bind, the trunk (registrar and outbound proxy) and credentials.

    ``trunk_host`` empty means no trunk: numbers must then be full SIP URIs.
    ``public_host`` is what goes into Contact and SDP when it differs from the bind
    address (a container behind a fixed forward).
    """

    bind_host: str = "127.0.0.1"
    bind_port: int = 5060
    public_host: str = ""
    trunk_host: str = ""
    trunk_port: int = 5060
    domain: str = ""  # the SIP domain of our AOR; defaults to trunk_host
    user: str = "switchboard"
    auth_user: str = ""  # defaults to user
    password: str = ""
    caller_id: str = ""  # the number or user put in From; defaults to user
    display_name: str = ""
    register: bool = False
    register_expires_sec: int = 300
    register_retry_sec: float = 30.0
    rtp_ports: tuple[int, int] = (10000, 20000)
    codecs: tuple[Codec, ...] = ("PCMU", "PCMA")
    ring_timeout_sec: float = 30.0  # also how long an inbound call may wait to be answered
    transfer_timeout_sec: float = 30.0
    user_agent: str = "switchboard"
    timers: Timers = field(default_factory=Timers)
    # Who may call in; the default (no trunk, no sources, no digest) refuses everyone.
    inbound: InboundPolicy = field(default_factory=InboundPolicy)

    @property
    def contact_host(self) -> str:
        return self.public_host or self.bind_host

    @property
    def aor_domain(self) -> str:
        if self.domain:
            return self.domain
        if self.trunk_host:
            return (
                self.trunk_host
                if self.trunk_port == 5060
                else f"{self.trunk_host}:{self.trunk_port}"
            )
        return self.contact_host
