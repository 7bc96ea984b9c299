"""The gRPC edge: domain errors ↔ status codes, in one place.

Servicer methods are wrapped with :func:`grpc_errors`; clients turn an
``AioRpcError`` back into a domain error with :func:`domain_error`.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar, cast

import grpc

from switchboard.errors import (
    AlreadyExists,
    DeadlineExceeded,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    SwitchboardError,
    Unavailable,
)

log = logging.getLogger(__name__)

_TO_STATUS: dict[type[SwitchboardError], grpc.StatusCode] = {
    InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    NotFound: grpc.StatusCode.NOT_FOUND,
    AlreadyExists: grpc.StatusCode.ALREADY_EXISTS,
    FailedPrecondition: grpc.StatusCode.FAILED_PRECONDITION,
    Unavailable: grpc.StatusCode.UNAVAILABLE,
    DeadlineExceeded: grpc.StatusCode.DEADLINE_EXCEEDED,
}
_FROM_STATUS = {code: cls for cls, code in _TO_STATUS.items()}

RETRYABLE_CODES = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})


def status_of(error: SwitchboardError) -> grpc.StatusCode:
    for cls in type(error).__mro__:
        if cls in _TO_STATUS:
            return _TO_STATUS[cls]
    return grpc.StatusCode.INTERNAL


def domain_error(exc: grpc.aio.AioRpcError) -> SwitchboardError:
    """The domain error a failed call stands for (``Unavailable`` for unknown codes)."""
    cls = _FROM_STATUS.get(exc.code(), Unavailable)
    return cls(exc.details() or exc.code().name)


def is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, grpc.aio.AioRpcError):
        return exc.code() in RETRYABLE_CODES
    return isinstance(exc, SwitchboardError) and exc.retryable


F = TypeVar("F", bound=Callable[..., Any])


async def _abort(context: grpc.aio.ServicerContext, exc: Exception, method: str) -> None:
    if isinstance(exc, SwitchboardError):
        await context.abort(status_of(exc), exc.message)
    log.exception("unexpected error in servicer", extra={"method": method})
    await context.abort(grpc.StatusCode.INTERNAL, "internal error; see the service log")


def grpc_errors(method: F) -> F:
    """Maps domain errors raised by a servicer method (unary or streaming) to status codes."""
    name = method.__qualname__

    if inspect.isasyncgenfunction(method):

        @functools.wraps(method)
        async def stream_wrapper(self: Any, request: Any, context: Any) -> AsyncIterator[Any]:
            try:
                async for item in method(self, request, context):
                    yield item
            except grpc.aio.AbortError:
                raise
            except Exception as exc:
                await _abort(context, exc, name)

        return cast(F, stream_wrapper)

    @functools.wraps(method)
    async def unary_wrapper(self: Any, request: Any, context: Any) -> Any:
        try:
            return await method(self, request, context)
        except grpc.aio.AbortError:
            raise
        except Exception as exc:
            await _abort(context, exc, name)

    return cast(F, unary_wrapper)
