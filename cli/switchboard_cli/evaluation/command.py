"""``switchboard eval DIR``: run a scenario suite, print the table, write the results."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path

from switchboard.config import LlmSettings, Settings
from switchboard_cli.evaluation.judge import CallJudge
from switchboard_cli.evaluation.report import pass_rate, render_table, write_results
from switchboard_cli.evaluation.runner import EvalOptions, RunReport, run_suite
from switchboard_cli.evaluation.spec import EvalScenario, Policy, SpecError, load_suite
from switchboard_cli.local import DATA_DIR, Endpoints, out, services_for

# The bot's "now" when the evaluation starts the services: Tuesday 24 November 2026,
# 07:00 in California (the cross-service tests use the same instant).
EVAL_NOW = "2026-11-24T15:00:00+00:00"
# Services started for an evaluation: a silent callee is prompted after this long. Voice
# mode waits longer: the caller's words reach the bot only after speech recognition.
EVAL_SILENCE_TIMEOUT_SEC = 2
EVAL_VOICE_SILENCE_TIMEOUT_SEC = 6
VOICE_SPEED = 5.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("suite", type=Path, help="a scenario folder (or one scenario file)")
    parser.add_argument("--voice", action="store_true", help="speak the lines (Speech.Speak)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per scenario")
    parser.add_argument(
        "--policy",
        choices=("form", "llm"),
        default=None,
        help="the brain's policy when the evaluation starts the services (default: brain.policy)",
    )
    parser.add_argument(
        "--min-pass-rate",
        type=float,
        default=0.0,
        help="exit 1 when fewer runs than this share (0 to 1) pass",
    )
    parser.add_argument("--concurrency", type=int, default=None, help="calls at once")
    parser.add_argument("--out", type=Path, default=None, help="results folder")
    parser.add_argument(
        "--real-time", action="store_true", help=f"voice mode at 1x (default {VOICE_SPEED:g}x)"
    )
    parser.add_argument("--judge-endpoint", default="", help="judge base URL (default brain.llm)")
    parser.add_argument("--judge-model", default="", help="judge model (default brain.llm)")


def service_env(policy: Policy, fixed_now: str = EVAL_NOW, voice: bool = False) -> dict[str, str]:
    """Overrides for services the evaluation starts: its policy, its clock, quick silences."""
    silence = EVAL_VOICE_SILENCE_TIMEOUT_SEC if voice else EVAL_SILENCE_TIMEOUT_SEC
    return {
        "SWITCHBOARD__BRAIN__FIXED_NOW": fixed_now,
        "SWITCHBOARD__BRAIN__POLICY": policy,
        "SWITCHBOARD__FEATURES__PHONE_SILENCE_TIMEOUT_SEC": str(silence),
    }


def judge_settings(settings: Settings, endpoint: str, model: str) -> LlmSettings:
    """The brain's ``llm`` section, with the judge's own endpoint and model when given."""
    base = settings.brain.llm
    updates = {k: v for k, v in (("endpoint", endpoint), ("fast_model", model)) if v}
    return base.model_copy(update=updates)


def cmd_eval(settings: Settings, args: argparse.Namespace) -> int:
    try:
        specs = load_suite(args.suite)
    except SpecError as exc:
        out(str(exc))
        return 2
    if args.repeat < 1 or (args.concurrency or 1) < 1 or not 0 <= args.min_pass_rate <= 1:
        out("--repeat and --concurrency are at least 1, --min-pass-rate between 0 and 1")
        return 2
    policy: Policy = args.policy or settings.brain.policy
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out_dir: Path = args.out or DATA_DIR / "eval" / stamp
    env = service_env(policy, settings.brain.fixed_now or EVAL_NOW, voice=args.voice)
    judge = CallJudge(judge_settings(settings, args.judge_endpoint, args.judge_model))
    skipped = [s for s in specs if not s.runnable_with(policy)]
    mode = "voice" if args.voice else "text"
    judging = "on" if judge.configured else "off: criteria not judged"
    count = len(specs) - len(skipped)
    out(f"Evaluating {count} scenarios x {args.repeat} ({mode}, {policy} policy, judge {judging})")
    with services_for(settings, env) as services:
        if not services.started_here:
            out(f"Using the services running at {services.gateway_url} (their own policy)")
        now = env["SWITCHBOARD__BRAIN__FIXED_NOW"] if services.started_here else ""
        options = EvalOptions(
            call_date=_call_date(now or settings.brain.fixed_now),
            policy=policy,
            voice=args.voice,
            repeat=args.repeat,
            concurrency=args.concurrency or (2 if args.voice else 8),
            speed=1.0 if args.real_time else VOICE_SPEED,
            wav_dir=out_dir / "calls" if args.voice else None,
        )
        reports = asyncio.run(_run(specs, services, options, judge))
    write_results(out_dir / "results.jsonl", reports)
    out(render_table(reports, skipped))
    out(f"\nResults: {out_dir / 'results.jsonl'}")
    rate = pass_rate(reports)
    if rate < args.min_pass_rate:
        sys.stderr.write(
            f"pass rate {rate:.1%} is below --min-pass-rate {args.min_pass_rate:.1%}\n"
        )
        return 1
    return 0


async def _run(
    specs: list[EvalScenario], services: Endpoints, options: EvalOptions, judge: CallJudge
) -> list[RunReport]:
    def progress(report: RunReport) -> None:
        sys.stderr.write("." if report.passed else "F")
        sys.stderr.flush()

    try:
        return await run_suite(specs, services, options, judge, on_done=progress)
    finally:
        sys.stderr.write("\n")
        await judge.close()


def _call_date(fixed_now: str) -> datetime:
    return datetime.fromisoformat(fixed_now) if fixed_now else datetime.now(UTC)
