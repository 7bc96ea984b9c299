"""The evaluation scenario format: a simulator scenario plus expectations.

Every field of a ``switchboard simulate`` scenario is accepted (``phone_number``,
``request``, ``customer``, ``expect_claim``); ``docs/evaluation.md`` documents the rest.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from switchboard_cli.scenario import CustomerLine, Scenario

Policy = Literal["form", "llm"]
EventKind = Literal["transfer", "sms", "voicemail", "hangup"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ClaimRule(_Strict):
    """How one claim value is checked; a plain string in YAML means ``equals``."""

    equals: str | None = None  # same instant for datetimes; else equal ignoring case/spaces
    contains: str | None = None  # these words appear in the value (ignoring case)
    e164: bool | str | None = None  # true: any valid E.164 number; a string: that number
    # The value's date is the call date plus this many days (in the value's own offset).
    relative_date: int | None = None
    time: str | None = None  # with relative_date: the value's local time, "HH:MM"
    absent: bool = False  # the field must not be collected

    @model_validator(mode="before")
    @classmethod
    def _plain_value_is_equals(cls, value: Any) -> Any:
        return {"equals": str(value)} if not isinstance(value, dict) else value

    @model_validator(mode="after")
    def _one_rule(self) -> ClaimRule:
        rules = [self.equals, self.contains, self.e164, self.relative_date]
        if sum(r is not None for r in rules) + self.absent != 1:
            raise ValueError("a claim rule is one of equals, contains, e164, relative_date, absent")
        if self.time is not None and self.relative_date is None:
            raise ValueError("time goes with relative_date")
        return self


class ToolCallRule(_Strict):
    """A tool the bot called (or, with ``absent``, never called), with argument subset."""

    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    absent: bool = False


class Outcome(_Strict):
    """How the call ended and what the post-call analysis decided."""

    state: Literal["ended", "failed"] | None = None
    end_reason: str | None = None  # the line's end reason: claim_complete, transferred, ...
    next_action: str | None = None
    satisfaction: str | None = None


class MustNot(_Strict):
    """Things that must not happen during the call."""

    repeat_question: bool = False  # the bot asks the same question twice
    say: list[str] = Field(default_factory=list)  # phrases the bot never says (ignoring case)
    # E-mail addresses and phone numbers the bot reads back must be the expected ones.
    wrong_readback: bool = False
    reveal: list[str] = Field(default_factory=list)  # secrets: never in any bot line


class Expect(_Strict):
    """What the call must show; each entry is one scored expectation."""

    claim: dict[str, ClaimRule] = Field(default_factory=dict)
    tool_calls: list[ToolCallRule] = Field(default_factory=list)
    outcome: Outcome = Field(default_factory=Outcome)
    events: list[EventKind] = Field(default_factory=list)
    no_events: list[EventKind] = Field(default_factory=list)
    within_ms: int | None = Field(default=None, gt=0)  # every bot reply, unless the line says
    must_not: MustNot = Field(default_factory=MustNot)
    bot_says: list[str] = Field(default_factory=list)  # phrases some bot line contains


class Judge(_Strict):
    """Natural-language criteria and scores for the judge (never passed without one)."""

    criteria: list[str] = Field(default_factory=list)
    scores: list[Literal["task_completion", "faithfulness", "politeness"]] = Field(
        default_factory=list
    )
    min_score: float = Field(0.5, ge=0, le=1)
    knowledge: str = ""  # what the bot may state as fact (faithfulness is judged against it)


class EvalLine(CustomerLine):
    """A callee's line, with its latency budget."""

    within_ms: int | None = Field(default=None, gt=0)  # the bot's reply to this line


class EvalScenario(_Strict):
    """One evaluation scenario (a file under ``scenarios/eval/``)."""

    name: str = ""
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    needs: Policy = "form"  # the policy able to serve it; skipped under a weaker one
    known_failure: str = ""  # why it fails today; reported as such, never weakened
    phone_number: str = ""  # empty: a fresh US number per run, so runs never resume each other
    request: dict[str, Any] = Field(default_factory=dict)
    customer: list[EvalLine] = Field(default_factory=list)
    expect_claim: dict[str, str] = Field(default_factory=dict)  # simulator form of expect.claim
    expect: Expect = Field(default_factory=Expect)
    judge: Judge = Field(default_factory=Judge)

    def claim_rules(self) -> dict[str, ClaimRule]:
        # The simulator's rule: datetimes denote the same instant, text contains the words.
        rules = {name: _simulator_rule(value) for name, value in self.expect_claim.items()}
        return {**rules, **self.expect.claim}

    def simulation(self, phone_number: str) -> Scenario:
        """The simulator's scenario for one run on ``phone_number``."""
        return Scenario(
            phone_number=phone_number,
            request=self.request,
            customer=[
                CustomerLine.model_validate(line.model_dump(exclude={"within_ms"}))
                for line in self.customer
            ],
            expect_claim=self.expect_claim,
        )

    def runnable_with(self, policy: Policy) -> bool:
        return self.needs == "form" or policy == "llm"


def _simulator_rule(value: str) -> ClaimRule:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return ClaimRule(contains=value)
    return ClaimRule(equals=value)


class SpecError(ValueError):
    """A scenario file cannot be used; the message says which and why."""


def load_spec(path: Path) -> EvalScenario:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        spec = EvalScenario.model_validate(data)
    except OSError as exc:
        raise SpecError(f"{path}: cannot read it ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise SpecError(f"{path}: not valid YAML: {exc}") from exc
    except ValidationError as exc:
        raise SpecError(f"{path}: {exc}") from exc
    return spec if spec.name else spec.model_copy(update={"name": path.stem})


def load_suite(directory: Path) -> list[EvalScenario]:
    """Every ``*.yaml`` under ``directory`` (or the one file given), sorted by name."""
    paths = [directory] if directory.is_file() else sorted(directory.rglob("*.yaml"))
    if not paths:
        raise SpecError(f"{directory}: no scenario files (*.yaml)")
    specs = [load_spec(p) for p in paths]
    names = [s.name for s in specs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise SpecError(f"{directory}: duplicate scenario names: {', '.join(duplicates)}")
    return specs
