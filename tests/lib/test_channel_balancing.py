"""Clients balance over every address of a service (round_robin), over real gRPC."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from switchboard import domain
from switchboard.channels import open_channel
from switchboard.config import ConfigError, load_settings
from switchboard.grpc_targets import channel_target, listen_address
from switchboard.server import GrpcService
from switchboard.store_client import StoreClient
from switchboard_store.__main__ import SERVICE_NAMES, serve_repository
from switchboard_store.sqlite_repository import SqliteCallRepository
from switchboard_testing.clock import VirtualClock

from .echo_service import BIDI, UNARY, echo_server

CALLS = 20


def test_a_list_of_addresses_becomes_one_ipv4_target() -> None:
    assert channel_target(["127.0.0.1:1", "10.0.0.2:50053"]) == "ipv4:127.0.0.1:1,10.0.0.2:50053"
    assert channel_target(["[::1]:1", "[fd00::2]:2"]) == "ipv6:[::1]:1,[fd00::2]:2"


def test_single_addresses_and_dns_targets_stay_as_written() -> None:
    assert channel_target("brain:50053") == "brain:50053"
    assert channel_target("dns:///brain-headless:50053") == "dns:///brain-headless:50053"


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        (["brain-0:50053", "brain-1:50053"], "IP addresses only; .* dns:///name:port"),
        (["127.0.0.1:1", "[::1]:2"], "all IPv4 or all IPv6"),
        ([], "at least one"),
        ("brain", "not host:port"),
        (["127.0.0.1:99999"], "not host:port"),
    ],
)
def test_a_bad_address_is_refused_saying_why(address: str | list[str], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        channel_target(address)


def test_a_list_in_the_environment_is_a_balanced_target_and_a_bad_one_names_the_key() -> None:
    env = {"SWITCHBOARD__SERVICES__BRAIN": "[127.0.0.1:50053, 127.0.0.1:50063]"}
    settings = load_settings(Path("/nonexistent"), environ=env)
    assert settings.services.brain == "ipv4:127.0.0.1:50053,127.0.0.1:50063"
    assert listen_address(settings.services.brain) is None
    assert listen_address(settings.services.store) == "127.0.0.1:50054"
    with pytest.raises(ConfigError, match=r"services\.store"):
        load_settings(Path("/nonexistent"), environ={"SWITCHBOARD__SERVICES__STORE": "[store:1]"})


@contextlib.asynccontextmanager
async def two_echo_servers(served: Counter[str]) -> AsyncIterator[str]:
    async with echo_server("a", served) as a, echo_server("b", served) as b:
        yield channel_target([f"127.0.0.1:{a.port}", f"127.0.0.1:{b.port}"])


async def test_calls_are_spread_over_every_address_of_the_list() -> None:
    served: Counter[str] = Counter()
    async with two_echo_servers(served) as target:
        channel = open_channel(target)
        try:
            answers = Counter([await channel.unary_unary(UNARY)(b"hi") for _ in range(CALLS)])
        finally:
            await channel.close()
    assert served["a"] > 0 and served["b"] > 0, served
    assert served["a"] + served["b"] == CALLS
    assert answers == Counter({b"a": served["a"], b"b": served["b"]})


async def test_a_bidi_stream_stays_on_the_backend_it_started_on() -> None:
    served: Counter[str] = Counter()
    async with two_echo_servers(served) as target:
        channel = open_channel(target)
        try:
            backends = []
            for _ in range(4):
                stream = channel.stream_stream(BIDI)()
                replies = set()
                for _ in range(5):
                    await stream.write(b"x")
                    replies.add(await stream.read())
                await stream.done_writing()
                assert len(replies) == 1, replies  # every message of the stream, one backend
                backends.append(replies.pop())
        finally:
            await channel.close()
    assert set(backends) == {b"a", b"b"}  # but the streams themselves are balanced


async def test_when_one_backend_stops_the_calls_go_to_the_others() -> None:
    served: Counter[str] = Counter()
    async with echo_server("a", served) as a:
        async with echo_server("b", served) as b:
            channel = open_channel(channel_target([f"127.0.0.1:{a.port}", f"127.0.0.1:{b.port}"]))
            await channel.unary_unary(UNARY)(b"warm up")
        try:
            answers = [await channel.unary_unary(UNARY)(b"hi", timeout=5) for _ in range(CALLS)]
        finally:
            await channel.close()
    assert answers == [b"a"] * CALLS


START = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)


def _request(number: int) -> domain.CallRequest:
    return domain.CallRequest.model_validate(
        {
            "bot_company": "Contoso",
            "bot_name": "Amélie",
            "phone_number": f"+1415555{number:04d}",
            "agent_phone_number": "+14155550199",
            "task": "Collect the incident details.",
            "claim": [{"name": "description", "type": "text"}],
        }
    )


async def test_a_store_client_spreads_its_writes_over_two_real_stores(tmp_path: Path) -> None:
    services: list[GrpcService] = []
    addresses = []
    try:
        for name in ("one", "two"):
            repository = await SqliteCallRepository.open(
                tmp_path / f"{name}.db", VirtualClock(START)
            )
            service = GrpcService("store", "127.0.0.1:0", SERVICE_NAMES)
            serve_repository(service, repository)
            addresses.append(f"127.0.0.1:{await service.start()}")
            services.append(service)
        balanced = StoreClient(channel_target(addresses))
        try:
            for number in range(CALLS):
                await balanced.create_call(_request(number), domain.CallDirection.OUTBOUND)
        finally:
            await balanced.close()
        totals = []
        for address in addresses:
            single = StoreClient(address)
            try:
                totals.append((await single.list_calls())[1])
            finally:
                await single.close()
    finally:
        for service in services:
            await service.stop(0)
    assert all(total > 0 for total in totals), totals
    assert sum(totals) == CALLS
