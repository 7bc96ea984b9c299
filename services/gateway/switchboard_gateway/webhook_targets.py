"""Which URLs the gateway posts webhooks to: the guard against server-side request forgery.

A URL is ``https://`` with a host and no credentials, and its host resolves to public
addresses only; the connection then goes to the very address that was checked (the
name is kept for TLS and ``Host``), so a DNS answer that changes between the check and
the connection cannot redirect it. Hosts in ``gateway.webhooks.allow_hosts`` are exempt
from the scheme and address rules (development, tests, a trusted internal receiver).
Redirects are never followed.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

MAX_URL = 2048


class TargetRefused(ValueError):
    """The URL may not be posted to; the message says why, for the API caller."""


@dataclass(frozen=True)
class Target:
    """Where one delivery connects: ``url`` names the checked address, ``host`` the name."""

    url: str
    host: str


def _split(url: str) -> SplitResult:
    if len(url) > MAX_URL:
        raise TargetRefused(f"must be at most {MAX_URL} characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError for a bad port
    except ValueError as exc:
        raise TargetRefused("must be a URL such as https://example.com/hooks/calls") from exc
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise TargetRefused("must be a URL such as https://example.com/hooks/calls")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("must not carry a user name or password")
    if parts.fragment:
        raise TargetRefused("must not have a #fragment")
    return parts


def _allowed(host: str, allow_hosts: Sequence[str]) -> bool:
    return host.lower() in {h.lower().strip("[]") for h in allow_hosts}


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_url(url: str, allow_hosts: Sequence[str]) -> str:
    """``url`` if it may be registered; TargetRefused otherwise (checks what it can
    without DNS: the scheme, and a literal address)."""
    parts = _split(url)
    host = parts.hostname or ""
    if _allowed(host, allow_hosts):
        return url
    if parts.scheme != "https":
        raise TargetRefused("must be an https:// URL")
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        if "." not in host:
            raise TargetRefused("must name a public host, e.g. hooks.example.com") from None
        return url
    if not _public(str(literal)):
        raise TargetRefused("must not point to a loopback, private or reserved address")
    return url


async def addresses_of(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to now; TargetRefused when it does not resolve."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise TargetRefused(f"host does not resolve ({exc.strerror or exc})") from exc
    return [str(info[4][0]) for info in infos]


async def resolve(url: str, allow_hosts: Sequence[str]) -> Target:
    """Where to connect for ``url`` now: TargetRefused when any of its host's addresses
    is not public (or it does not resolve)."""
    check_url(url, allow_hosts)
    parts = _split(url)
    host = parts.hostname or ""
    if _allowed(host, allow_hosts):
        return Target(url=url, host=host)
    addresses = await addresses_of(host, parts.port or 443)
    if not addresses or not all(_public(a) for a in addresses):
        raise TargetRefused("host resolves to a loopback, private or reserved address")
    first = addresses[0]
    literal = f"[{first}]" if ":" in first else first
    netloc = f"{literal}:{parts.port}" if parts.port else literal
    return Target(url=parts._replace(netloc=netloc).geturl(), host=host)
