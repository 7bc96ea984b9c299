"""Who may call in: the trunk's addresses, a digest challenge, caps, and where media may go.

An INVITE from anyone was answered before: a stranger got the bot's audio streamed to
whatever address their SDP named (a reflection and cost abuse vector) and held the
speech service. An inbound INVITE is now admitted only when

- its source address is in the trusted networks (``InboundPolicy.sources``, or the
  trunk host's addresses when none are listed), else ``403``;
- it answers our digest challenge, when ``InboundPolicy.digest`` is on, else ``401``
  with a fresh challenge (``403`` for wrong credentials);
- fewer than ``max_calls`` inbound calls are up, and fewer than
  ``max_calls_per_source`` from its address, else ``503``.

With no trusted network and no digest, nobody may call in. Nonces are stateless (an
HMAC of their time) and expire; the nonce counts seen are kept, bounded, against replay.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from switchboard_dialer.telephony.sip import digest
from switchboard_dialer.telephony.sip.message import SipRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
NONCE_LIFETIME_SEC = 300.0
MAX_NONCES_SEEN = 10_000


@dataclass(frozen=True)
class InboundPolicy:
    """Inbound calls: who may place them, how many at once, and where their media may go.

    ``sources`` and ``media_networks`` are IP addresses or networks (``203.0.113.0/24``).
    Empty ``sources`` means the trunk host's addresses. Media goes only to the address
    the INVITE came from, or into ``media_networks`` (a trunk whose media servers are
    not its signalling servers).
    """

    sources: tuple[str, ...] = ()
    digest: bool = False
    max_calls: int = 20
    max_calls_per_source: int = 10
    media_networks: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        networks(self.sources)  # fails at startup, not at the first call
        networks(self.media_networks)


def networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """Parses addresses and networks; raises ``ValueError`` naming a bad entry."""
    out: list[Network] = []
    for entry in entries:
        try:
            out.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError as exc:
            raise ValueError(f"not an IP address or network: {entry!r}") from exc
    return tuple(out)


@dataclass(frozen=True)
class Refusal:
    """The answer to an INVITE we do not take: a status and headers to add."""

    status: int
    reason: str
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Credentials:
    """What inbound callers must prove they know (the trunk's account)."""

    realm: str
    user: str
    password: str


class InboundGate:
    """Admits or refuses inbound INVITEs and counts the calls admitted, per source."""

    def __init__(
        self,
        policy: InboundPolicy,
        trusted: tuple[Network, ...],
        credentials: Credentials,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if policy.digest and not credentials.password:
            raise ValueError("inbound digest authentication needs a password")
        self.policy = policy
        self.trusted = trusted
        self._media = networks(policy.media_networks)
        self._credentials = credentials
        self._clock = clock
        self._secret = secrets.token_bytes(32)
        self._nonce_counts: OrderedDict[str, int] = OrderedDict()
        self._calls: Counter[str] = Counter()

    @property
    def open(self) -> bool:
        """Whether anyone at all may call in (a trusted network or digest is configured)."""
        return bool(self.trusted) or self.policy.digest

    @property
    def active_calls(self) -> int:
        return sum(self._calls.values())

    def check(self, request: SipRequest, source: str) -> Refusal | None:
        """``None`` if the INVITE from ``source`` may become a call, else why not."""
        if not self.open or (self.trusted and not _within(source, self.trusted)):
            return Refusal(403, "Forbidden")
        if self.policy.digest:
            refusal = self._check_digest(request)
            if refusal is not None:
                return refusal
        if self.active_calls >= self.policy.max_calls:
            return Refusal(503, "Service Unavailable (too many calls)")
        if self._calls[source] >= self.policy.max_calls_per_source:
            return Refusal(503, "Service Unavailable (too many calls from this address)")
        return None

    def taken(self, source: str) -> None:
        """An admitted INVITE holds a call slot until :meth:`released`."""
        self._calls[source] += 1

    def released(self, source: str) -> None:
        self._calls[source] -= 1
        if self._calls[source] <= 0:
            del self._calls[source]

    def media_allowed(self, media_host: str, source: str) -> bool:
        """Whether RTP of a call signalled from ``source`` may go to ``media_host``."""
        return media_host == source or _within(media_host, self._media)

    # Digest (RFC 3261 §22.4, server side) --------------------------------------

    def _challenge(self, stale: bool = False) -> Refusal:
        stamp = f"{int(self._clock() * 1000):x}"
        nonce = f"{stamp}.{self._sign(stamp)}"
        value = f'Digest realm="{self._credentials.realm}", nonce="{nonce}", qop="auth"'
        value += ", algorithm=MD5" + (", stale=true" if stale else "")
        return Refusal(401, "Unauthorized", (("WWW-Authenticate", value),))

    def _sign(self, stamp: str) -> str:
        return hmac.new(self._secret, stamp.encode(), hashlib.sha256).hexdigest()[:32]

    def _check_digest(self, request: SipRequest) -> Refusal | None:
        header = request.get("Authorization")
        if header is None:
            return self._challenge()
        scheme, params = digest.parse_params(header)
        nonce = params.get("nonce", "")
        stamp, _, signature = nonce.partition(".")
        if scheme != "digest" or not _same(signature, self._sign(stamp)):
            return self._challenge()
        if self._clock() - int(stamp, 16) / 1000 > NONCE_LIFETIME_SEC:
            return self._challenge(stale=True)
        if not self._valid_response(request, params):
            return Refusal(403, "Forbidden (wrong credentials)")
        return None

    def _valid_response(self, request: SipRequest, params: dict[str, str]) -> bool:
        credentials = self._credentials
        algorithm = params.get("algorithm", "MD5").upper()
        if (
            params.get("username") != credentials.user
            or params.get("realm") != credentials.realm
            or params.get("uri") != request.uri
            or algorithm not in ("MD5", "SHA-256")
        ):
            return False
        nc = params.get("nc", "")
        # We offer qop=auth only: its nonce count is what makes a replay detectable.
        if params.get("qop") != "auth":
            return False
        expected = digest.response_hash(
            algorithm,
            (credentials.user, credentials.realm, credentials.password),
            request.method,
            request.uri,
            params["nonce"],
            (nc, params.get("cnonce", ""), "auth"),
        )
        return _same(expected, params.get("response", "")) and self._fresh_count(
            params["nonce"], nc
        )

    def _fresh_count(self, nonce: str, nc: str) -> bool:
        """Each nonce count is used once (a replayed INVITE is refused)."""
        try:
            count = int(nc, 16) if len(nc) == 8 and nc.isascii() else -1
        except ValueError:
            return False
        if count <= self._nonce_counts.get(nonce, 0):
            return False
        self._nonce_counts[nonce] = count
        self._nonce_counts.move_to_end(nonce)
        while len(self._nonce_counts) > MAX_NONCES_SEEN:
            self._nonce_counts.popitem(last=False)
        return True


def _same(a: str, b: str) -> bool:
    """Constant-time comparison that also takes non-ASCII text (a peer's)."""
    return hmac.compare_digest(a.encode(), b.encode())


def _within(host: str, trusted: tuple[Network, ...]) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in network for network in trusted)
