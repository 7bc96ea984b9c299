"""Runs a suite of scenarios concurrently against one set of services.

Each run gets its own callee number, so concurrent runs (and repeats) never resume
each other's conversation. Text mode sends the callee's lines as text; voice mode
speaks them through the Speech service and writes each call as a two-channel WAV
(left: the callee, right: what the callee heard of the bot).
"""

from __future__ import annotations

import asyncio
import json
import random
import wave
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from switchboard.store_client import StoreClient
from switchboard_cli.evaluation.checks import check_all
from switchboard_cli.evaluation.judge import CallJudge
from switchboard_cli.evaluation.record import CallRecord, Result, ToolCallSeen
from switchboard_cli.evaluation.spec import EvalScenario, Policy
from switchboard_cli.local import Endpoints
from switchboard_cli.scenario import SimulatedCallee, SimulationResult
from switchboard_cli.scenario_voice import VoiceCallee

# Area codes of California: every number gets the same timezone as the bundled demo.
_AREA_CODES = ("415", "628", "650", "510", "408", "707", "925")
_NUMBERS_PER_AREA = 9000


@dataclass(frozen=True)
class EvalOptions:
    call_date: datetime  # the bot's "now": relative claim dates resolve against it
    policy: Policy = "form"
    voice: bool = False
    repeat: int = 1
    concurrency: int = 8
    sample_rate: int = 8000
    speed: float = 1.0  # voice mode: times faster than real time
    wav_dir: Path | None = None
    limit_sec: float = 120.0  # one call, start to stored report


@dataclass
class RunReport:
    """One run of one scenario: what happened and how every expectation fared."""

    spec: EvalScenario
    record: CallRecord
    results: list[Result]

    @property
    def passed(self) -> bool:
        """No expectation failed. Unjudged criteria do not fail a run, nor count as passed."""
        return all(r.status != "fail" for r in self.results)

    @property
    def unjudged(self) -> int:
        return sum(r.status == "not_judged" for r in self.results)


class NumberPool:
    """Distinct valid US numbers, from a random start so separate evaluations rarely meet."""

    def __init__(self, seed: int | None = None) -> None:
        self._next = random.Random(seed).randrange(len(_AREA_CODES) * _NUMBERS_PER_AREA)

    def take(self) -> str:
        n = self._next % (len(_AREA_CODES) * _NUMBERS_PER_AREA)
        self._next += 1
        area, line = divmod(n, _NUMBERS_PER_AREA)
        return f"+1{_AREA_CODES[area]}555{line + 1000:04d}"


OnDone = Callable[[RunReport], None]


async def run_suite(
    specs: list[EvalScenario],
    endpoints: Endpoints,
    options: EvalOptions,
    judge: CallJudge,
    on_done: OnDone | None = None,
) -> list[RunReport]:
    """Every runnable scenario ``options.repeat`` times, at most ``concurrency`` at once."""
    gate = asyncio.Semaphore(options.concurrency)
    numbers = NumberPool()

    async def one(spec: EvalScenario, run: int) -> RunReport:
        async with gate:
            number = spec.phone_number or numbers.take()
            record = await run_call(spec, run, number, endpoints, options)
            results = check_all(spec, record) + await judge.judge(spec, record)
            if record.error:
                results.insert(0, Result.check("run", "call completed", False, record.error))
            report = RunReport(spec, record, results)
        if on_done is not None:
            on_done(report)
        return report

    jobs = [
        one(spec, run)
        for run in range(options.repeat)
        for spec in specs
        if spec.runnable_with(options.policy)
    ]
    return list(await asyncio.gather(*jobs))


async def run_call(
    spec: EvalScenario, run: int, number: str, endpoints: Endpoints, options: EvalOptions
) -> CallRecord:
    """One call of ``spec``; a run that breaks is a record with ``error`` set."""
    scenario = spec.simulation(number)
    callee: SimulatedCallee
    if options.voice:
        callee = VoiceCallee(
            scenario,
            endpoints.gateway_url,
            endpoints.api_key,
            endpoints.dialer,
            endpoints.speech,
            sample_rate=options.sample_rate,
            speed=options.speed,
            record=options.wav_dir is not None,
        )
    else:
        callee = SimulatedCallee(
            scenario, endpoints.gateway_url, endpoints.api_key, endpoints.dialer
        )
    base = CallRecord(scenario=spec.name, run=run, call_date=options.call_date)
    try:
        result: SimulationResult = await callee.run(limit_sec=options.limit_sec)
    except TimeoutError:
        return base.model_copy(update={"error": f"the call took over {options.limit_sec:g} s"})
    except Exception as exc:  # a broken run is a failed run, reported, never a crash
        return base.model_copy(update={"error": f"{type(exc).__name__}: {exc}"})
    record = base.model_copy(
        update={
            "call": result.call,
            "heard": result.heard,
            "end_reason": result.end_reason,
            "reply_ms": result.reply_ms,
            "tool_calls": await tool_calls_of(endpoints.store, str(result.call["call_id"])),
        }
    )
    if isinstance(callee, VoiceCallee) and callee.recording and options.wav_dir is not None:
        write_wav(options.wav_dir / f"{spec.name}-{run}.wav", callee.recording, options.sample_rate)
    return record


async def tool_calls_of(store_address: str, call_id: str) -> list[ToolCallSeen]:
    """The tool calls kept on the call's messages (the API does not show them)."""
    store = StoreClient(store_address)
    try:
        call = await store.get_call(call_id)
    finally:
        await store.close()
    seen = []
    for message in call.messages:
        for tool in message.tool_calls:
            try:
                arguments = json.loads(tool.arguments_json) if tool.arguments_json else {}
            except json.JSONDecodeError:
                arguments = {"_raw": tool.arguments_json}
            if not isinstance(arguments, dict):
                arguments = {"_value": arguments}
            seen.append(ToolCallSeen(name=tool.name, arguments=arguments))
    return seen


def write_wav(path: Path, frames: list[tuple[bytes, bytes]], sample_rate: int) -> None:
    """A 16-bit stereo WAV: the callee's frames left, the bot's (as heard) right."""
    path.parent.mkdir(parents=True, exist_ok=True)
    out = bytearray()
    for caller, bot in frames:
        for i in range(0, min(len(caller), len(bot)), 2):
            out += caller[i : i + 2] + bot[i : i + 2]
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(bytes(out))
