"""The shared token of internal gRPC traffic: clients send it, servers check it.

Every client call carries ``authorization: Bearer <token>``; a server refuses a call
without one of its accepted tokens with UNAUTHENTICATED, compared in constant time.
The health and reflection services stay open: Kubernetes gRPC probes send no metadata,
and reflection tells only the schema, which is public in ``protos/``. The token is never
logged.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

import grpc

log = logging.getLogger(__name__)

TOKEN_METADATA_KEY = "authorization"
_SCHEME = "Bearer "
# Method paths (/package.Service/Method) that need no token.
OPEN_METHOD_PREFIXES = (
    "/grpc.health.v1.Health/",
    "/grpc.reflection.v1alpha.ServerReflection/",
    "/grpc.reflection.v1.ServerReflection/",
)
REFUSAL = "this service needs the internal token (internal_auth)"


def _presented(metadata: Iterable[tuple[str, str | bytes]] | None) -> bytes:
    for key, value in metadata or ():
        if key == TOKEN_METADATA_KEY and isinstance(value, str) and value.startswith(_SCHEME):
            return value[len(_SCHEME) :].encode()
    return b""


async def _refuse(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> None:
    await context.abort(grpc.StatusCode.UNAUTHENTICATED, REFUSAL)


def _refusal_like(handler: grpc.RpcMethodHandler | None) -> grpc.RpcMethodHandler:
    """A handler of the same shape as ``handler`` that refuses the call."""
    if handler is None:  # an unknown method: refused like a known one, nothing learnt
        return grpc.unary_unary_rpc_method_handler(_refuse)
    make = {
        (False, False): grpc.unary_unary_rpc_method_handler,
        (False, True): grpc.unary_stream_rpc_method_handler,
        (True, False): grpc.stream_unary_rpc_method_handler,
        (True, True): grpc.stream_stream_rpc_method_handler,
    }[(bool(handler.request_streaming), bool(handler.response_streaming))]
    return make(
        _refuse,
        request_deserializer=handler.request_deserializer,
        response_serializer=handler.response_serializer,
    )


class TokenCheck(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Lets a call through only with one of ``tokens`` (the health service always)."""

    def __init__(self, tokens: Sequence[str]) -> None:
        if not tokens:
            raise ValueError("TokenCheck needs at least one token")
        self._tokens = tuple(token.encode() for token in tokens)

    def accepts(self, metadata: Iterable[tuple[str, str | bytes]] | None) -> bool:
        presented = _presented(metadata)
        # Every token is compared, each in constant time: how long a refusal takes says
        # nothing about how close a guess was, nor which token matched.
        matches = [hmac.compare_digest(presented, token) for token in self._tokens]
        return bool(presented) and any(matches)

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        method: str = handler_call_details.method or ""
        if method.startswith(OPEN_METHOD_PREFIXES) or self.accepts(
            handler_call_details.invocation_metadata
        ):
            return handler
        log.warning("refused a call without the internal token", extra={"rpc.method": method})
        return _refusal_like(handler)


def _with_token(details: grpc.aio.ClientCallDetails, header: str) -> grpc.aio.ClientCallDetails:
    metadata = grpc.aio.Metadata(*(details.metadata or ()))
    metadata.add(TOKEN_METADATA_KEY, header)
    return grpc.aio.ClientCallDetails(
        details.method, details.timeout, metadata, details.credentials, details.wait_for_ready
    )


class _TokenSender:
    def __init__(self, token: str) -> None:
        self._header = _SCHEME + token

    def _details(self, details: grpc.aio.ClientCallDetails) -> grpc.aio.ClientCallDetails:
        return _with_token(details, self._header)


# grpc.aio files an interceptor under the first of the four kinds it is an instance of,
# so each kind needs its own class.
class _UnaryUnary(_TokenSender, grpc.aio.UnaryUnaryClientInterceptor):  # type: ignore[misc]
    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(self._details(details), request)


class _UnaryStream(_TokenSender, grpc.aio.UnaryStreamClientInterceptor):  # type: ignore[misc]
    async def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(self._details(details), request)


class _StreamUnary(_TokenSender, grpc.aio.StreamUnaryClientInterceptor):  # type: ignore[misc]
    async def intercept_stream_unary(self, continuation: Any, details: Any, requests: Any) -> Any:
        return await continuation(self._details(details), requests)


class _StreamStream(_TokenSender, grpc.aio.StreamStreamClientInterceptor):  # type: ignore[misc]
    async def intercept_stream_stream(self, continuation: Any, details: Any, requests: Any) -> Any:
        return await continuation(self._details(details), requests)


def token_senders(token: str) -> list[grpc.aio.ClientInterceptor]:
    """Client interceptors that put ``token`` on every call, of every kind."""
    return [cls(token) for cls in (_UnaryUnary, _UnaryStream, _StreamUnary, _StreamStream)]
