"""Internal gRPC auth over real gRPC: the token check, mutual TLS, the open health service.

Internal auth is process-wide (configured once per service process), so each test says
which auth its server is built under and which its client channel is opened under.
"""

from __future__ import annotations

import contextlib
import logging
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from switchboard.channels import open_channel
from switchboard.config import ConfigError, InternalAuthSettings, load_settings
from switchboard.internal_auth import OFF, InternalAuth, load_internal_auth, use_internal_auth
from switchboard.server import GrpcService
from switchboard_testing.certificates import CertFiles, TestCA

from .echo_service import UNARY, echo_server, one_of_each

TOKEN = "a-token-of-sufficient-length-0001"
NEXT_TOKEN = "a-token-of-sufficient-length-0002"


@contextlib.contextmanager
def using(auth: InternalAuth) -> Iterator[None]:
    previous = use_internal_auth(auth)
    try:
        yield
    finally:
        use_internal_auth(previous)


@contextlib.asynccontextmanager
async def server_under(auth: InternalAuth, served: Counter[str]) -> AsyncIterator[GrpcService]:
    with using(auth):
        async with echo_server("echo", served) as service:
            yield service


@contextlib.asynccontextmanager
async def channel_under(auth: InternalAuth, port: int) -> AsyncIterator[grpc.aio.Channel]:
    with using(auth):
        channel = open_channel(f"127.0.0.1:{port}")
    try:
        yield channel
    finally:
        await channel.close()


def tls_auth(files: CertFiles, tokens: tuple[str, ...] = (), health_port: int = 0) -> InternalAuth:
    settings = InternalAuthSettings(
        mode="mtls+token" if tokens else "mtls",
        token=" ".join(tokens),
        cert_file=str(files.cert),
        key_file=str(files.key),
        ca_file=str(files.ca),
        health_port=health_port,
    )
    return load_internal_auth(settings)


async def refused_code(channel: grpc.aio.Channel) -> grpc.StatusCode:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await channel.unary_unary(UNARY)(b"hi", timeout=5)
    code: grpc.StatusCode = error.value.code()
    return code


async def test_with_the_token_every_kind_of_call_goes_through() -> None:
    auth = InternalAuth(tokens=(TOKEN,))
    served: Counter[str] = Counter()
    async with server_under(auth, served) as server, channel_under(auth, server.port) as ch:
        answers = await one_of_each(ch)
    assert answers == [b"echo", b"echo", b"echo", b"abecho", b"echo"]
    assert served["echo"] == 4


async def test_without_the_token_every_kind_of_call_is_unauthenticated_and_never_served() -> None:
    served: Counter[str] = Counter()
    async with server_under(InternalAuth(tokens=(TOKEN,)), served) as server:
        async with channel_under(OFF, server.port) as channel:
            for call in (
                channel.unary_unary(UNARY)(b"hi"),
                channel.stream_unary("/switchboard.test.Echo/ClientStream")(iter([b"a"])),
            ):
                with pytest.raises(grpc.aio.AioRpcError) as error:
                    await call
                assert error.value.code() == grpc.StatusCode.UNAUTHENTICATED
            for stream in (
                channel.unary_stream("/switchboard.test.Echo/ServerStream")(b"hi"),
                channel.stream_stream("/switchboard.test.Echo/Bidi")(iter([b"a"])),
            ):
                with pytest.raises(grpc.aio.AioRpcError) as error:
                    _ = [reply async for reply in stream]
                assert error.value.code() == grpc.StatusCode.UNAUTHENTICATED
            # An unknown method says the same, not UNIMPLEMENTED.
            with pytest.raises(grpc.aio.AioRpcError) as error:
                await channel.unary_unary("/switchboard.v1.Store/Nope")(b"")
            assert error.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert served["echo"] == 0


async def test_a_wrong_token_is_unauthenticated_and_never_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    wrong = "not-the-token-but-just-as-long-01"
    served: Counter[str] = Counter()
    caplog.set_level(logging.DEBUG)
    async with server_under(InternalAuth(tokens=(TOKEN,)), served) as server:
        async with channel_under(InternalAuth(tokens=(wrong,)), server.port) as channel:
            assert await refused_code(channel) == grpc.StatusCode.UNAUTHENTICATED
    assert served["echo"] == 0
    assert "refused a call without the internal token" in caplog.text
    assert wrong not in caplog.text and TOKEN not in caplog.text


async def test_health_and_reflection_answer_without_the_token() -> None:
    async with server_under(InternalAuth(tokens=(TOKEN,)), Counter()) as server:
        async with channel_under(OFF, server.port) as channel:
            health = health_pb2_grpc.HealthStub(channel)  # type: ignore[no-untyped-call]
            reply = await health.Check(health_pb2.HealthCheckRequest(service=""))
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
            stub = reflection_pb2_grpc.ServerReflectionStub(channel)  # type: ignore[no-untyped-call]
            replies = stub.ServerReflectionInfo(
                iter([reflection_pb2.ServerReflectionRequest(list_services="")])
            )
            names = [s.name async for r in replies for s in r.list_services_response.service]
            assert "switchboard.test.Echo" in names


async def test_during_a_rotation_the_server_accepts_both_tokens_and_then_only_the_new() -> None:
    rotating = InternalAuth(tokens=(NEXT_TOKEN, TOKEN))
    async with server_under(rotating, Counter()) as server:
        for sent in (TOKEN, NEXT_TOKEN):
            async with channel_under(InternalAuth(tokens=(sent,)), server.port) as channel:
                assert await channel.unary_unary(UNARY)(b"hi") == b"echo"
    async with server_under(InternalAuth(tokens=(NEXT_TOKEN,)), Counter()) as server:
        async with channel_under(InternalAuth(tokens=(TOKEN,)), server.port) as channel:
            assert await refused_code(channel) == grpc.StatusCode.UNAUTHENTICATED


@pytest.fixture
def ca(tmp_path: Path) -> TestCA:
    return TestCA(tmp_path / "pki")


async def test_mtls_serves_a_client_with_a_certificate_of_the_ca(ca: TestCA) -> None:
    served: Counter[str] = Counter()
    async with server_under(tls_auth(ca.issue("store")), served) as server:
        async with channel_under(tls_auth(ca.issue("dialer")), server.port) as channel:
            assert await one_of_each(channel) == [b"echo", b"echo", b"echo", b"abecho", b"echo"]
    assert served["echo"] == 4


async def test_mtls_refuses_plaintext_no_certificate_and_another_cas_certificate(
    ca: TestCA, tmp_path: Path
) -> None:
    served: Counter[str] = Counter()
    server_files = ca.issue("store")
    stranger = TestCA(tmp_path / "other", name="another CA").issue("intruder")
    async with server_under(tls_auth(server_files), served) as server:
        address = f"127.0.0.1:{server.port}"
        async with channel_under(OFF, server.port) as plaintext:
            assert await refused_code(plaintext) == grpc.StatusCode.UNAVAILABLE
        no_cert = grpc.ssl_channel_credentials(root_certificates=server_files.ca.read_bytes())
        async with grpc.aio.secure_channel(address, no_cert) as anonymous:
            assert await refused_code(anonymous) == grpc.StatusCode.UNAVAILABLE
        foreign = grpc.ssl_channel_credentials(
            root_certificates=server_files.ca.read_bytes(),
            private_key=stranger.key.read_bytes(),
            certificate_chain=stranger.cert.read_bytes(),
        )
        async with grpc.aio.secure_channel(address, foreign) as impostor:
            assert await refused_code(impostor) == grpc.StatusCode.UNAVAILABLE
    assert served["echo"] == 0


async def test_mtls_and_token_together_need_both(ca: TestCA) -> None:
    both = tls_auth(ca.issue("store"), tokens=(TOKEN,))
    async with server_under(both, Counter()) as server:
        async with channel_under(tls_auth(ca.issue("dialer")), server.port) as cert_only:
            assert await refused_code(cert_only) == grpc.StatusCode.UNAUTHENTICATED
        client = tls_auth(ca.issue("dialer"), tokens=(TOKEN,))
        async with channel_under(client, server.port) as channel:
            assert await channel.unary_unary(UNARY)(b"hi") == b"echo"


async def test_the_health_port_answers_probes_in_plaintext_and_serves_nothing_else(
    ca: TestCA,
) -> None:
    from switchboard_cli.launcher import free_port

    health_port = free_port()
    async with server_under(tls_auth(ca.issue("store"), health_port=health_port), Counter()):
        async with channel_under(OFF, health_port) as probe:
            health = health_pb2_grpc.HealthStub(probe)  # type: ignore[no-untyped-call]
            reply = await health.Check(health_pb2.HealthCheckRequest(service=""))
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
            assert await refused_code(probe) == grpc.StatusCode.UNIMPLEMENTED


def test_the_token_comes_from_a_file_and_every_line_of_it_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text(f"{NEXT_TOKEN}\n{TOKEN}\n")
    auth = load_internal_auth(InternalAuthSettings(mode="token", token_file=str(path)))
    assert auth.tokens == (NEXT_TOKEN, TOKEN)
    assert TOKEN not in repr(auth)


def test_a_short_token_is_refused_without_showing_it() -> None:
    with pytest.raises(ConfigError, match="at least 16 characters") as error:
        load_internal_auth(InternalAuthSettings(mode="token", token="short-secret"))
    assert "short-secret" not in str(error.value)


def test_an_unreadable_certificate_is_a_config_error_naming_the_key(tmp_path: Path) -> None:
    settings = InternalAuthSettings(
        mode="mtls", cert_file=str(tmp_path / "gone.crt"), key_file="k", ca_file="c"
    )
    with pytest.raises(ConfigError, match=r"internal_auth\.cert_file"):
        load_internal_auth(settings)


def test_modes_missing_their_material_are_config_errors_naming_what_is_missing() -> None:
    with pytest.raises(ConfigError, match="needs token_file or SWITCHBOARD__INTERNAL_AUTH__TOKEN"):
        load_settings(Path("/nonexistent"), environ={"SWITCHBOARD__INTERNAL_AUTH__MODE": "token"})
    with pytest.raises(ConfigError, match="needs cert_file, key_file, ca_file"):
        load_settings(Path("/nonexistent"), environ={"SWITCHBOARD__INTERNAL_AUTH__MODE": "mtls"})


def test_the_token_from_the_environment_is_never_in_the_settings_repr() -> None:
    settings = load_settings(
        Path("/nonexistent"),
        environ={
            "SWITCHBOARD__INTERNAL_AUTH__MODE": "token",
            "SWITCHBOARD__INTERNAL_AUTH__TOKEN": TOKEN,
        },
    )
    assert settings.internal_auth.token.get_secret_value() == TOKEN
    assert TOKEN not in repr(settings) and TOKEN not in str(settings.model_dump())


def test_off_by_default_adds_nothing() -> None:
    settings = load_settings(Path("/nonexistent"), environ={})
    auth = load_internal_auth(settings.internal_auth)
    assert auth == OFF and not auth.enabled
    assert auth.server_interceptors() == [] and auth.client_interceptors() == []
    assert auth.server_credentials() is None and auth.channel_credentials() is None
