"""Free loopback ports for the processes and peers a test starts."""

from __future__ import annotations

import socket

HOST = "127.0.0.1"


def free_tcp_port() -> int:
    """A TCP port nothing listens on right now (gRPC services, the gateway)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def free_udp_port() -> int:
    """A UDP port nothing is bound to right now (SIP)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def free_rtp_range(size: int = 40) -> tuple[int, int]:
    """An even-aligned block of ``size`` UDP ports that are all free right now (RTP)."""
    for _ in range(50):
        base = free_udp_port() & ~1
        if base + size >= 65535:
            continue
        socks: list[socket.socket] = []
        try:
            for port in range(base, base + size):
                sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(sock)
                sock.bind((HOST, port))
            return base, base + size - 1
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
    raise RuntimeError("no free block of UDP ports for RTP")
