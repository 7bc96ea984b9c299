"""Client channels to the other services: balanced, authenticated, kept alive, retried."""

from __future__ import annotations

import json

import grpc

from switchboard import telemetry
from switchboard.internal_auth import internal_auth

# Every address the target resolves to gets calls in turn (round_robin; a bidi stream
# stays where it started). Retries only what is safe to retry: UNAVAILABLE before the
# call reached a server.
_SERVICE_CONFIG = json.dumps(
    {
        "loadBalancingConfig": [{"round_robin": {}}],
        "methodConfig": [
            {
                "name": [{}],
                "retryPolicy": {
                    "maxAttempts": 4,
                    "initialBackoff": "0.05s",
                    "maxBackoff": "0.5s",
                    "backoffMultiplier": 2,
                    "retryableStatusCodes": ["UNAVAILABLE"],
                },
            }
        ],
    }
)

_OPTIONS: list[tuple[str, str | int]] = [
    ("grpc.service_config", _SERVICE_CONFIG),
    ("grpc.enable_retries", 1),
    ("grpc.keepalive_time_ms", 20_000),
    ("grpc.max_receive_message_length", 8 * 1024 * 1024),
    # Reconnect fast after a peer restarts: a live call is waiting.
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1000),
    ("grpc.min_reconnect_backoff_ms", 100),
]


def open_channel(address: str) -> grpc.aio.Channel:
    """A channel for service-to-service traffic inside the deployment.

    ``address`` is a gRPC target as :mod:`switchboard.grpc_targets` makes them (one
    ``host:port``, an ``ipv4:`` list, ``dns:///name:port``). With internal auth on
    (:mod:`switchboard.internal_auth`) the channel is TLS with our client certificate
    and/or every call carries the token.
    """
    auth = internal_auth()
    # Both only add metadata (the token; traceparent and baggage), so their order is free.
    interceptors = [*auth.client_interceptors(), *telemetry.client_interceptors()] or None
    options = [*_OPTIONS, *auth.channel_options()]
    credentials = auth.channel_credentials()
    if credentials is None:
        return grpc.aio.insecure_channel(address, interceptors=interceptors, options=options)
    return grpc.aio.secure_channel(address, credentials, interceptors=interceptors, options=options)
