"""Where gateways reach this dialer replica (``dialer.advertise_address``).

A live call runs in one replica; its lease and its carrier URLs carry this address, so
hang-ups, transfers, media sockets and callbacks reach that replica.
"""

from __future__ import annotations

import ipaddress
import socket


def advertised_address(configured: str) -> str:
    """``dialer.advertise_address`` as gateways reach this replica: as configured, or, for
    ``:PORT`` (no host), this host's own IP address with that port. The latter is for
    platforms that cannot hand a replica its address in its environment (Azure Container
    Apps has no downward API); in a container the host name resolves to its own IP."""
    address = configured.strip()
    if not address.startswith(":"):
        return address
    port = address[1:]
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(
            f"dialer.advertise_address {configured!r}: give host:port, or :PORT for this "
            "host's own IP address (e.g. :50051)"
        )
    host = socket.gethostbyname(socket.gethostname())
    if ipaddress.ip_address(host).is_loopback:
        raise ValueError(
            f"dialer.advertise_address {configured!r}: this host's name resolves to {host}, "
            "which other hosts cannot reach; give the address as host:port"
        )
    return f"{host}:{port}"
