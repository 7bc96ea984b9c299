"""What one evaluated call produced, and how each expectation fared."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

Status = Literal["pass", "fail", "not_judged"]


class ToolCallSeen(BaseModel):
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class CallRecord(BaseModel):
    """One call as the evaluation saw it: the API's call, the callee's ears, the timings."""

    scenario: str
    run: int = 0
    call_date: datetime  # "now" for the bot: relative dates resolve against it
    call: dict[str, Any] = Field(default_factory=dict)  # GET /call/{id}
    heard: list[tuple[str, str]] = Field(default_factory=list)  # (bot|caller|system, text)
    end_reason: str = ""
    reply_ms: dict[int, float] = Field(default_factory=dict)  # callee line index -> latency
    tool_calls: list[ToolCallSeen] = Field(default_factory=list)
    error: str = ""  # the run itself broke (services down, timeout): every check fails

    def bot_lines(self) -> list[str]:
        return [text for speaker, text in self.heard if speaker == "bot"]


class Result(BaseModel):
    """One expectation of one run."""

    kind: str  # claim, tool_call, outcome, event, latency, must_not, bot_says, judge, score
    name: str  # readable and stable across runs: the table groups on (kind, name)
    status: Status
    detail: str = ""
    score: float | None = None  # judge scores, 0 to 1

    @classmethod
    def check(cls, kind: str, name: str, ok: bool, detail: str = "") -> Result:
        return cls(kind=kind, name=name, status="pass" if ok else "fail", detail=detail)
