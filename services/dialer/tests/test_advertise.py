"""``dialer.advertise_address``: as configured, or ``:PORT`` for this host's own IP."""

from __future__ import annotations

import socket

import pytest

from switchboard.config import DialerSettings
from switchboard_dialer.advertise import advertised_address
from switchboard_dialer.leases import lease_of


def test_a_configured_host_and_port_is_advertised_as_it_is() -> None:
    assert advertised_address(" 10.0.0.7:50051 ") == "10.0.0.7:50051"
    assert advertised_address("") == ""


def test_a_port_alone_advertises_this_hosts_own_ip(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "gethostname", lambda: "sb-dialer--rev1-5d9c")
    monkeypatch.setattr(socket, "gethostbyname", lambda name: "100.100.4.17")
    assert advertised_address(":50051") == "100.100.4.17:50051"
    lease = lease_of(DialerSettings(replica_id="d1", advertise_address=":50051"))
    assert lease.address == "100.100.4.17:50051"


def test_a_host_name_that_resolves_to_loopback_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(socket, "gethostbyname", lambda name: "127.0.1.1")
    with pytest.raises(ValueError, match="other hosts cannot reach"):
        advertised_address(":50051")


@pytest.mark.parametrize("bad", [":", ":port", ":70000"])
def test_a_port_that_is_not_one_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="host:port, or :PORT"):
        advertised_address(bad)
