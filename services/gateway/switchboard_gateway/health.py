"""Liveness and readiness probes; open to everyone, they reveal only up or down."""

from __future__ import annotations

import logging
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from switchboard_gateway.backend import DEPENDENCIES, CallBackend, ServiceCheck

log = logging.getLogger(__name__)

Status = Literal["ok", "fail"]


class CheckView(BaseModel):
    id: str
    status: Status


class Readiness(BaseModel):
    status: Status
    checks: list[CheckView]


router = APIRouter(prefix="/health", tags=["health"])


@router.get("/liveness", summary="The process is up")
async def liveness() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readiness",
    summary="Every service behind the gateway answers its gRPC health check",
    response_model=Readiness,
    responses={503: {"model": Readiness}},
)
async def readiness(request: Request) -> JSONResponse:
    calls: CallBackend = request.app.state.calls
    try:
        checks = await calls.readiness()
    except Exception:
        # A probe must answer; a broken check is a failed check.
        log.exception("readiness check raised")
        checks = [ServiceCheck(name, False) for name in DEPENDENCIES]
    body = Readiness(
        status="ok" if all(c.ok for c in checks) else "fail",
        checks=[CheckView(id=c.id, status="ok" if c.ok else "fail") for c in checks],
    )
    return JSONResponse(body.model_dump(), status_code=200 if body.status == "ok" else 503)
