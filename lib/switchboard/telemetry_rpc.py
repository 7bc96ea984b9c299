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
    """Records ``rpc.server.call.duration`` for every call the server handles."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        full = handler_call_details.method or ""
        service, _, method = full.lstrip("/").rpartition("/")
        attributes = {"rpc.system": "grpc", "rpc.service": service, "rpc.method": method}

        def record(start: float, context: Any, error: BaseException | None) -> None:
            RPC_SERVER_DURATION.record(
                time.perf_counter() - start,
                {**attributes, "rpc.grpc.status_code": _status(context, error)},
            )

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

            wrapped: Any = streamed
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
