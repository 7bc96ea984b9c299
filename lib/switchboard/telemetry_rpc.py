"""``rpc.server.call.duration``: the gRPC instrumentation traces but records no metrics.

A server interceptor that wraps every handler and records its duration in seconds
with ``rpc.system``, ``rpc.service``, ``rpc.method`` and ``rpc.grpc.status_code``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

from switchboard.telemetry_metrics import RPC_SERVER_DURATION


def _status(context: grpc.aio.ServicerContext[Any, Any], error: BaseException | None) -> int:
    """The call's status code as a number: what the handler set, else what it raised."""
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return _number(code)
    if isinstance(code, int):
        return code
    if error is None:
        return _number(grpc.StatusCode.OK)
    if isinstance(error, asyncio.CancelledError):
        return _number(grpc.StatusCode.CANCELLED)
    return _number(grpc.StatusCode.UNKNOWN)


def _number(code: grpc.StatusCode) -> int:
    value: int = code.value[0]
    return value


class RpcDurationInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Records ``rpc.server.call.duration`` for every call the server handles.

    This runs on every call, so the wrapped handler is built once per method and reused
    while the method's handler stays the same object (place this interceptor innermost:
    an interceptor inside it may build a new handler per call).
    """

    def __init__(self) -> None:
        self._wrapped: dict[str, tuple[grpc.RpcMethodHandler, grpc.RpcMethodHandler]] = {}

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        method = handler_call_details.method or ""
        cached = self._wrapped.get(method)
        if cached is not None and cached[0] is handler:
            return cached[1]
        wrapped = _timed(handler, method)
        self._wrapped[method] = (handler, wrapped)
        return wrapped


def _timed(handler: grpc.RpcMethodHandler, full_method: str) -> grpc.RpcMethodHandler:
    """``handler`` with its duration recorded, whatever its streaming shape."""
    service, _, method = full_method.lstrip("/").rpartition("/")
    base = {"rpc.system": "grpc", "rpc.service": service, "rpc.method": method}
    by_code: dict[int, dict[str, Any]] = {}

    def record(start: float, context: Any, error: BaseException | None) -> None:
        code = _status(context, error)
        attributes = by_code.get(code)
        if attributes is None:
            attributes = by_code[code] = {**base, "rpc.grpc.status_code": code}
        RPC_SERVER_DURATION.record(time.perf_counter() - start, attributes)

    wrapped: Any
    if handler.response_streaming:
        behavior = handler.unary_stream or handler.stream_stream

        async def streamed(request: Any, context: Any) -> AsyncIterator[Any]:
            start, error = time.perf_counter(), None
            try:
                result = behavior(request, context)
                if hasattr(result, "__aiter__"):
                    async for response in result:
                        yield response
                else:
                    await result
            except BaseException as exc:
                error = exc
                raise
            finally:
                record(start, context, error)

        wrapped = streamed
    else:
        behavior = handler.unary_unary or handler.stream_unary

        async def unary(request: Any, context: Any) -> Any:
            start, error = time.perf_counter(), None
            try:
                return await behavior(request, context)
            except BaseException as exc:
                error = exc
                raise
            finally:
                record(start, context, error)

        wrapped = unary
    factory = {
        (False, False): grpc.unary_unary_rpc_method_handler,
        (False, True): grpc.unary_stream_rpc_method_handler,
        (True, False): grpc.stream_unary_rpc_method_handler,
        (True, True): grpc.stream_stream_rpc_method_handler,
    }[(handler.request_streaming, handler.response_streaming)]
    return factory(
        wrapped,
        request_deserializer=handler.request_deserializer,
        response_serializer=handler.response_serializer,
    )
