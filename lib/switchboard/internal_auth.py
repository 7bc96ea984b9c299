"""Authentication of gRPC traffic between the services: a shared token, mutual TLS, or both.

``configure_internal_auth(settings)`` runs once per process (service, gateway, CLI),
before any server or channel exists; :class:`~switchboard.server.GrpcService` and
:func:`~switchboard.channels.open_channel` then take everything from
:func:`internal_auth`: server credentials and the token check on one side, channel
credentials and the token on every call on the other. With ``internal_auth.mode: off``
(the default) nothing changes: plaintext, no token.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import grpc

from switchboard.config import ConfigError, InternalAuthSettings
from switchboard.token_interceptors import TokenCheck, token_senders

# A guessable token protects nothing: ``openssl rand -hex 32`` gives 64 characters.
MIN_TOKEN_CHARS = 16


@dataclass(frozen=True)
class TlsIdentity:
    """This process's certificate and key (served, and presented to servers) and the CA
    every peer's certificate must chain to."""

    certificate: bytes
    private_key: bytes = field(repr=False)
    ca: bytes
    server_name: str = ""  # checked in servers' certificates instead of the target's host


@dataclass(frozen=True)
class InternalAuth:
    """What a process presents and requires on internal gRPC; the default is nothing."""

    tokens: tuple[str, ...] = field(default=(), repr=False)  # accepted; the first is sent
    tls: TlsIdentity | None = None
    health_port: int = 0

    @property
    def enabled(self) -> bool:
        return bool(self.tokens) or self.tls is not None

    def server_credentials(self) -> grpc.ServerCredentials | None:
        """TLS that requires a client certificate signed by the CA; None: plaintext."""
        if self.tls is None:
            return None
        return grpc.ssl_server_credentials(
            [(self.tls.private_key, self.tls.certificate)],
            root_certificates=self.tls.ca,
            require_client_auth=True,
        )

    def channel_credentials(self) -> grpc.ChannelCredentials | None:
        """TLS that checks the server against the CA and presents our certificate."""
        if self.tls is None:
            return None
        return grpc.ssl_channel_credentials(
            root_certificates=self.tls.ca,
            private_key=self.tls.private_key,
            certificate_chain=self.tls.certificate,
        )

    def channel_options(self) -> list[tuple[str, str]]:
        if self.tls is not None and self.tls.server_name:
            return [("grpc.ssl_target_name_override", self.tls.server_name)]
        return []

    def server_interceptors(self) -> list[grpc.aio.ServerInterceptor]:
        return [TokenCheck(self.tokens)] if self.tokens else []

    def client_interceptors(self) -> list[grpc.aio.ClientInterceptor]:
        return token_senders(self.tokens[0]) if self.tokens else []


OFF = InternalAuth()
_current = OFF


def _read(path: str, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"internal_auth.{what}: cannot read {path}: {exc.strerror}") from exc


def _tokens(settings: InternalAuthSettings) -> tuple[str, ...]:
    text = settings.token.get_secret_value()
    if settings.token_file:
        text = _read(settings.token_file, "token_file").decode("utf-8", errors="strict")
    tokens = tuple(text.replace(",", " ").split())
    if not tokens:
        raise ConfigError("internal_auth: the token is empty")
    if any(len(token) < MIN_TOKEN_CHARS for token in tokens):
        # Never the token itself in the message: it ends up in logs.
        raise ConfigError(f"internal_auth: a token must be at least {MIN_TOKEN_CHARS} characters")
    return tokens


def load_internal_auth(settings: InternalAuthSettings) -> InternalAuth:
    """Reads the token and certificate files the settings name; :class:`ConfigError` when
    one cannot be read or a token is too short."""
    tokens = _tokens(settings) if settings.uses_token else ()
    tls = None
    if settings.uses_tls:
        tls = TlsIdentity(
            certificate=_read(settings.cert_file, "cert_file"),
            private_key=_read(settings.key_file, "key_file"),
            ca=_read(settings.ca_file, "ca_file"),
            server_name=settings.server_name,
        )
    return InternalAuth(tokens, tls, settings.health_port)


def configure_internal_auth(settings: InternalAuthSettings) -> InternalAuth:
    """Makes ``settings`` this process's internal auth; before servers and channels."""
    auth = load_internal_auth(settings)
    use_internal_auth(auth)
    return auth


def use_internal_auth(auth: InternalAuth) -> InternalAuth:
    """Sets this process's internal auth and returns the previous one (tests restore it)."""
    global _current
    previous, _current = _current, auth
    return previous


def internal_auth() -> InternalAuth:
    return _current
