"""Where a client finds a service: one ``host:port``, a list of addresses, or a DNS name.

A service address in config is one of

- ``host:port``: gRPC's default resolver looks the host up (every A/AAAA record of a
  Kubernetes headless Service, for instance);
- ``dns:///name:port`` (or any other gRPC target with a scheme: ``ipv4:``, ``ipv6:``,
  ``unix:``): used as it is;
- a list of IP ``address:port`` entries: turned into one ``ipv4:`` (or ``ipv6:``)
  target naming every backend.

Channels balance their calls over every address the target resolves to with the
``round_robin`` policy (:mod:`switchboard.channels`); a bidi stream stays on the
backend it started on.
"""

from __future__ import annotations

import ipaddress
import re

# A gRPC target with a resolver scheme; "host:port" is not one ("127.0.0.1:1" is not either).
_SCHEMES = ("dns:", "ipv4:", "ipv6:", "unix:", "unix-abstract:")
_HOST_PORT = re.compile(r"^(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(?P<port>\d{1,5})$")


def _host_port(address: str) -> tuple[str, int]:
    match = _HOST_PORT.match(address.strip())
    if match is None or not 0 <= int(match["port"]) < 65536:
        raise ValueError(f"{address!r} is not host:port, e.g. 127.0.0.1:50053 or brain:50053")
    return match["host"], int(match["port"])


def _ip_version(host: str) -> int:
    try:
        return ipaddress.ip_address(host.strip("[]")).version
    except ValueError:
        raise ValueError(
            f"{host!r}: a list of addresses takes IP addresses only; for a name that "
            "resolves to several, write dns:///name:port"
        ) from None


def channel_target(address: str | list[str] | tuple[str, ...]) -> str:
    """The gRPC target of a configured service address; :class:`ValueError` says what is
    wrong with a bad one."""
    if isinstance(address, str):
        text = address.strip()
        if text.startswith(_SCHEMES):
            return text
        _host_port(text)
        return text
    if not address:
        raise ValueError("a list of addresses must name at least one")
    hosts = [_host_port(entry) for entry in address]
    versions = {_ip_version(host) for host, _ in hosts}
    if len(versions) > 1:
        raise ValueError("a list of addresses must be all IPv4 or all IPv6")
    scheme = f"ipv{versions.pop()}"
    return f"{scheme}:" + ",".join(f"{host}:{port}" for host, port in hosts)


def listen_address(target: str) -> str | None:
    """The address a server can bind for ``target``: itself when it is one ``host:port``,
    else None (a list or a DNS name names other processes too)."""
    if target.startswith(_SCHEMES):
        return None
    try:
        _host_port(target)
    except ValueError:
        return None
    return target
