"""Client channels to the other services, with keepalive and transparent retries."""

from __future__ import annotations

import json

import grpc

from switchboard import telemetry

# Retries only what is safe to retry: UNAVAILABLE before the call reached a server.
_SERVICE_CONFIG = json.dumps(
    {
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
        ]
    }
)


def open_channel(address: str) -> grpc.aio.Channel:
    """An insecure channel for service-to-service traffic inside the deployment."""
    return grpc.aio.insecure_channel(
        address,
        # Client spans carrying traceparent and baggage (none when telemetry is off).
        interceptors=telemetry.client_interceptors() or None,
        options=[
            ("grpc.service_config", _SERVICE_CONFIG),
            ("grpc.enable_retries", 1),
            ("grpc.keepalive_time_ms", 20_000),
            ("grpc.max_receive_message_length", 8 * 1024 * 1024),
            # Reconnect fast after a peer restarts: a live call is waiting.
            ("grpc.initial_reconnect_backoff_ms", 100),
            ("grpc.max_reconnect_backoff_ms", 1000),
            ("grpc.min_reconnect_backoff_ms", 100),
        ],
    )
