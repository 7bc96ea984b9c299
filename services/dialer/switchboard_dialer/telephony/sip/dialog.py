"""SIP dialogs (RFC 3261 §12): the state that ties a call's in-dialog requests together."""

from __future__ import annotations

from dataclasses import dataclass, field

from switchboard_dialer.telephony.sip.address import NameAddr, SipUri
from switchboard_dialer.telephony.sip.message import SipRequest, SipResponse


@dataclass
class Dialog:
    """Call-ID, both tags, CSeq counters, the remote target and the route set."""

    call_id: str
    local: NameAddr  # our address with our tag (From in our requests)
    remote: NameAddr  # theirs with their tag (To in our requests)
    remote_target: SipUri
    contact: str  # our Contact header value
    route_set: list[str] = field(default_factory=list)
    local_cseq: int = 1
    remote_cseq: int | None = None

    @classmethod
    def as_caller(cls, invite: SipRequest, response: SipResponse, contact: str) -> Dialog:
        """The dialog a 2xx (or tagged 1xx) to our INVITE created."""
        contacts = response.get_all("Contact")
        remote = NameAddr.parse(response.get("To") or "")
        target = NameAddr.parse(contacts[0]).uri if contacts else remote.uri
        return cls(
            call_id=invite.call_id,
            local=NameAddr.parse(invite.get("From") or ""),
            remote=remote,
            remote_target=target,
            contact=contact,
            route_set=list(reversed(response.get_all("Record-Route"))),
            local_cseq=invite.cseq[0],
        )

    @classmethod
    def as_callee(cls, invite: SipRequest, local_tag: str, contact: str) -> Dialog:
        """The dialog we create by answering an INVITE."""
        local = NameAddr.parse(invite.get("To") or "")
        local.params["tag"] = local_tag
        remote = NameAddr.parse(invite.get("From") or "")
        contacts = invite.get_all("Contact")
        target = NameAddr.parse(contacts[0]).uri if contacts else remote.uri
        return cls(
            call_id=invite.call_id,
            local=local,
            remote=remote,
            remote_target=target,
            contact=contact,
            route_set=invite.get_all("Record-Route"),
            local_cseq=0,
            remote_cseq=invite.cseq[0],
        )

    @property
    def next_hop(self) -> tuple[str, int]:
        """Where in-dialog requests go: the first (loose) route, else the remote target."""
        if self.route_set:
            return NameAddr.parse(self.route_set[0]).uri.address
        return self.remote_target.address

    def request(self, method: str, via: str, cseq: int | None = None) -> SipRequest:
        """A new in-dialog request; ``cseq`` is given for ACK (the INVITE's number)."""
        if cseq is None:
            self.local_cseq += 1
            cseq = self.local_cseq
        request = SipRequest(method=method, uri=str(self.remote_target))
        request.add("Via", via)
        for route in self.route_set:
            request.add("Route", route)
        request.add("Max-Forwards", "70")
        request.add("From", str(self.local))
        request.add("To", str(self.remote))
        request.add("Call-ID", self.call_id)
        request.add("CSeq", f"{cseq} {method}")
        request.add("Contact", self.contact)
        return request

    def accepts(self, request: SipRequest) -> bool:
        """Whether an in-dialog request belongs here (tags match, CSeq moves forward)."""
        try:
            to_tag = NameAddr.parse(request.get("To") or "").tag
            from_tag = NameAddr.parse(request.get("From") or "").tag
        except ValueError:
            return False
        if to_tag != self.local.tag or from_tag != self.remote.tag:
            return False
        number = request.cseq[0]
        if self.remote_cseq is not None and number < self.remote_cseq and request.method != "ACK":
            return False
        if request.method != "ACK":
            self.remote_cseq = number
        return True
