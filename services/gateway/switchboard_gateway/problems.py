"""The error envelope ``{"error": {"message", "details"}}`` and every exception → HTTP mapping.

Domain errors from the backend map as: InvalidArgument → 422, NotFound → 404,
AlreadyExists / FailedPrecondition → 409, Unavailable / DeadlineExceeded → 503.
Anything else is a bug: logged, and answered with a 500 that reveals nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from switchboard.errors import (
    AlreadyExists,
    DeadlineExceeded,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    SwitchboardError,
    Unavailable,
)
from switchboard_gateway.backend import DialTimeout
from switchboard_gateway.pages import render
from switchboard_gateway.validation_messages import describe_all, summary

log = logging.getLogger(__name__)

RETRY_AFTER_SEC = "2"
UNAVAILABLE_MESSAGE = "a service behind the gateway is unavailable; retry in a few seconds"
INTERNAL_MESSAGE = "internal error; it has been logged"


class ErrorBody(BaseModel):
    message: str
    details: list[str] = Field(default_factory=list)


class ErrorEnvelope(BaseModel):
    """Every error the API returns has this shape."""

    error: ErrorBody


class ApiError(Exception):
    """An error the gateway itself decides, with its HTTP status."""

    def __init__(
        self,
        status: int,
        message: str,
        details: Sequence[str] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = list(details)
        self.headers = dict(headers or {})


def error_responses(*codes: int, html: bool = False) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the error statuses an endpoint answers, besides 401.

    ``html``: a page, whose errors are the JSON envelope, or an HTML page for a browser
    that asks for one (see :func:`error_response`).
    """
    if not html:
        return {code: {"model": ErrorEnvelope} for code in sorted({401, *codes})}
    content = {
        "application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}},
        "text/html": {"schema": {"type": "string"}},
    }
    return {code: {"content": content} for code in sorted({401, *codes})}


def envelope(message: str, details: Sequence[str] = ()) -> dict[str, object]:
    body = ErrorBody(message=_encodable(message), details=[_encodable(d) for d in details])
    return ErrorEnvelope(error=body).model_dump()


def _encodable(text: str) -> str:
    # A message that quotes what a caller sent may hold a lone surrogate, which no
    # UTF-8 response can carry: show it escaped instead of failing with a 500.
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _wants_html(request: Request) -> bool:
    # Report pages are for browsers: show them a page, API clients the envelope.
    return request.url.path.startswith("/report") and "text/html" in request.headers.get(
        "accept", ""
    )


def error_response(
    request: Request,
    status: int,
    message: str,
    details: Sequence[str] = (),
    headers: Mapping[str, str] | None = None,
) -> Response:
    if _wants_html(request):
        page = render("error.html.jinja", status=status, message=message, details=details)
        return HTMLResponse(page, status_code=status, headers=headers)
    return JSONResponse(envelope(message, details), status_code=status, headers=headers)


def status_for(exc: SwitchboardError) -> int:
    if isinstance(exc, InvalidArgument):
        return 422
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, AlreadyExists | FailedPrecondition):
        return 409
    if isinstance(exc, Unavailable | DeadlineExceeded):
        return 503
    return 500


async def _on_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    details = describe_all(exc.errors())
    return error_response(request, 422, summary(details), details)


# Framework messages, reworded for a caller (FastAPI reports undecodable JSON as a bare 400).
_REWORDED = {
    (400, "There was an error parsing the body"): (
        422,
        "the body is not valid JSON (it must be UTF-8 and not nested absurdly deep)",
    ),
    (404, "Not Found"): (404, "no such endpoint; the API is described at /docs"),
    (405, "Method Not Allowed"): (405, "this endpoint does not accept that method; see /docs"),
}


async def _on_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    status, message = _REWORDED.get(
        (exc.status_code, str(exc.detail)), (exc.status_code, str(exc.detail))
    )
    return error_response(request, status, message, headers=exc.headers)


async def _on_api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(request, exc.status, exc.message, exc.details, exc.headers)


async def _on_domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SwitchboardError)
    status = status_for(exc)
    if status == 503:
        log.warning(
            "dependency failed",
            extra={"kind": type(exc).__name__, "path": _route(request), "pii_detail": exc.message},
        )
        message = exc.message if isinstance(exc, DialTimeout) else UNAVAILABLE_MESSAGE
        return error_response(request, 503, message, headers={"Retry-After": RETRY_AFTER_SEC})
    if status == 500:
        return await _on_unexpected(request, exc)
    return error_response(request, status, exc.message)


async def _on_unexpected(request: Request, exc: Exception) -> Response:
    log.error("unhandled error", exc_info=exc, extra={"path": _route(request)})
    return error_response(request, 500, INTERNAL_MESSAGE)


def _route(request: Request) -> str:
    route = request.scope.get("route")
    return str(getattr(route, "path", "unmatched"))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(ApiError, _on_api_error)
    app.add_exception_handler(SwitchboardError, _on_domain_error)
    app.add_exception_handler(Exception, _on_unexpected)
