"""The evaluation's outputs: a printed table, ``results.jsonl`` and the pass rate."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from switchboard_cli.evaluation.runner import RunReport
from switchboard_cli.evaluation.spec import EvalScenario


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def pass_rate(reports: list[RunReport]) -> float:
    """Passed runs over all runs (known failures included: they count as what they are)."""
    return sum(r.passed for r in reports) / len(reports) if reports else 0.0


def write_results(path: Path, reports: Iterable[RunReport]) -> None:
    """One JSON object per run: scenario, status, every expectation, timings, transcript."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for report in reports:
            record = report.record
            line = {
                "scenario": report.spec.name,
                "run": record.run,
                "passed": report.passed,
                "known_failure": report.spec.known_failure,
                "needs": report.spec.needs,
                "call_id": record.call.get("call_id", ""),
                "end_reason": record.end_reason,
                "error": record.error,
                "reply_ms": {str(k): round(v, 1) for k, v in sorted(record.reply_ms.items())},
                "results": [r.model_dump(exclude_none=True) for r in report.results],
                "claim": record.call.get("claim", {}),
                "tool_calls": [t.model_dump() for t in record.tool_calls],
                "heard": record.heard,
            }
            out.write(json.dumps(line, ensure_ascii=False) + "\n")


def render_table(reports: list[RunReport], skipped: list[EvalScenario]) -> str:
    """Pass rate per scenario and per expectation kind, reply latency per turn, failures."""
    lines: list[str] = []
    by_spec: dict[str, list[RunReport]] = defaultdict(list)
    for report in reports:
        by_spec[report.spec.name].append(report)
    width = max([len(n) for n in by_spec] + [8])
    lines.append(f"{'scenario':<{width}}  runs  pass  p50 ms  p95 ms  note")
    for name in sorted(by_spec):
        runs = by_spec[name]
        spec = runs[0].spec
        latencies = [ms for r in runs for ms in r.record.reply_ms.values()]
        p50, p95 = _p50_p95(latencies)
        note = f"known failure: {spec.known_failure}" if spec.known_failure else ""
        unjudged = sum(r.unjudged for r in runs)
        if unjudged:
            note = f"{note}; {unjudged} not judged".lstrip("; ")
        rate = f"{sum(r.passed for r in runs) / len(runs):4.0%}"
        lines.append(f"{name:<{width}}  {len(runs):>4}  {rate}  {p50:>6}  {p95:>6}  {note}")
    for spec in skipped:
        lines.append(
            f"{spec.name:<{width}}     -     -       -       -  skipped: needs {spec.needs}"
        )

    lines += ["", f"{'expectation':<16}  total  pass  fail  not judged"]
    kinds: dict[str, list[str]] = defaultdict(list)
    for report in reports:
        for result in report.results:
            kinds[result.kind].append(result.status)
    for kind in sorted(kinds):
        statuses = kinds[kind]
        counts = [statuses.count(s) for s in ("pass", "fail", "not_judged")]
        lines.append(
            f"{kind:<16}  {len(statuses):>5}  {counts[0]:>4}  {counts[1]:>4}  {counts[2]:>10}"
        )

    by_turn: dict[int, list[float]] = defaultdict(list)
    for report in reports:
        for index, ms in report.record.reply_ms.items():
            by_turn[index + 1].append(ms)
    if by_turn:
        lines += ["", "turn  replies  p50 ms  p95 ms"]
        for turn in sorted(by_turn):
            p50, p95 = _p50_p95(by_turn[turn])
            lines.append(f"{turn:>4}  {len(by_turn[turn]):>7}  {p50:>6}  {p95:>6}")

    failing = failing_expectations(reports)
    if failing:
        lines += ["", "unexpected failures (pass rate of the expectation over its runs):"]
        lines += [f"  {line}" for line in failing]
    known = [r for r in reports if r.spec.known_failure]
    passed = sum(r.passed for r in reports)
    lines += [
        "",
        f"pass rate: {passed}/{len(reports)} runs ({pass_rate(reports):.1%}); "
        f"known failures: {len(known)} runs, {sum(not r.passed for r in known)} failed; "
        f"skipped: {len(skipped)} scenarios",
    ]
    return "\n".join(lines)


def failing_expectations(reports: list[RunReport]) -> list[str]:
    """Expectations that failed at least once outside known failures, with their pass rate
    over the runs (with ``--repeat`` this tells a flaky expectation from a broken one)."""
    runs: dict[tuple[str, str, str], list[bool]] = defaultdict(list)
    last_detail: dict[tuple[str, str, str], str] = {}
    for report in reports:
        if report.spec.known_failure:
            continue
        for result in report.results:
            if result.status == "not_judged":
                continue
            key = (report.spec.name, result.kind, result.name)
            runs[key].append(result.status == "pass")
            if result.status == "fail":
                last_detail[key] = result.detail
    return [
        f"{name}: {kind} {what}: {sum(oks)}/{len(oks)} passed; {last_detail[key]}"
        for key, oks in runs.items()
        if not all(oks)
        for name, kind, what in [key]
    ]


def _p50_p95(values: list[float]) -> tuple[str, str]:
    if not values:
        return "-", "-"
    return f"{percentile(values, 50):.0f}", f"{percentile(values, 95):.0f}"
