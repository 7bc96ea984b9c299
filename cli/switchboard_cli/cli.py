"""The ``switchboard`` command: run the services locally, simulate and evaluate calls."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import re
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from switchboard.config import ConfigError, Settings, load_settings
from switchboard.internal_auth import configure_internal_auth
from switchboard.private_files import PRIVATE_FILE_MODE, private_dir, restrict_new_files
from switchboard_cli.evaluation.command import add_arguments as add_eval_arguments
from switchboard_cli.evaluation.command import cmd_eval
from switchboard_cli.jobs import add_arguments as add_jobs_arguments
from switchboard_cli.jobs import cmd_jobs
from switchboard_cli.launcher import Cluster, ClusterPorts
from switchboard_cli.local import (
    DATA_DIR,
    Endpoints,
    local_api_key,
    note,
    out,
    ports_from,
    services_for,
)
from switchboard_cli.scenario import (
    Echo,
    Scenario,
    ScenarioError,
    SimulatedCallee,
    claim_mismatches,
    load_scenario,
)
from switchboard_cli.scenario_voice import VoiceCallee
from switchboard_cli.supervisor import GaveUp, RestartPolicy, Supervisor

# What the dialer gets on top of its drain time before it is killed (the goodbye, the
# post-call wait, the server's stop), as the Helm chart's drainMarginSeconds.
DRAIN_MARGIN_SEC = 30.0
# --fast: how many times faster than real time voice mode runs.
FAST_SPEED = 5.0


STORE_BACKENDS = ("sqlite", "postgres", "cosmos")
# simulate --carrier: the fake carriers the callee can be on (testing/switchboard_testing).
CARRIER_NAMES = {"twilio": "Twilio", "acs": "Azure Communication Services"}


def with_store(settings: Settings, backend: str | None) -> Settings:
    """``--store``: the settings with another store backend (the children get it by env)."""
    if backend is None:
        return settings
    store = settings.store.model_copy(update={"backend": backend})
    return settings.model_copy(update={"store": store})


def _store_module() -> Any:
    # The store owns its migrations; imported by name, like the brain's kb command.
    return importlib.import_module("switchboard_store.migrate")


def cmd_migrate(settings: Settings, upto: int | None = None) -> int:
    """Applies the store database's pending migrations; 1 when the database is unreachable."""
    store = settings.store
    where = {
        "sqlite": store.sqlite_path,
        "cosmos": f"{store.cosmos.endpoint} (database {store.cosmos.database})",
    }.get(store.backend, store.postgres_dsn)
    try:
        applied = asyncio.run(_store_module().migrate(store, upto))
    except (OSError, ValueError, RuntimeError) as exc:
        out(f"Could not migrate the {store.backend} store at {where}: {exc}")
        return 1
    if applied:
        out(f"Migrated the {store.backend} store at {where}: applied {applied}")
    else:
        out(f"The {store.backend} store at {where} is up to date")
    return 0


def store_description(settings: Settings) -> str:
    store = settings.store
    if store.backend == "postgres":
        return f"PostgreSQL {store.postgres_dsn} (schema {store.postgres_schema})"
    if store.backend == "cosmos":
        return f"Cosmos DB {store.cosmos.endpoint} (database {store.cosmos.database})"
    return str(DATA_DIR / "switchboard.db")


def cmd_run(settings: Settings, policy: RestartPolicy | None = None) -> int:
    """Runs the five services until Ctrl-C or SIGTERM (exit 0), restarting any that dies;
    exits 1 when one keeps dying or they cannot start."""
    key = local_api_key()
    env = {"SWITCHBOARD__LOGGING__FORMAT": "text"}
    if settings.store.backend != "sqlite":
        # Like the Helm pre-install Job: the schema is current before any store starts.
        if cmd_migrate(settings) != 0:
            return 1
        env["SWITCHBOARD__STORE__BACKEND"] = settings.store.backend
    cluster = Cluster(
        ports=ports_from(settings),
        api_key=key,
        data_dir=DATA_DIR,
        env=env,
        dialer_stop_timeout_sec=settings.dialer.drain_timeout_sec + DRAIN_MARGIN_SEC,
        own_process_groups=True,
    )
    supervisor = Supervisor(cluster, policy)
    out("Starting store, brain, speech, dialer and gateway ...")
    stop = False

    def on_sigterm(signum: int, frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_sigterm)
    code = 0
    try:
        try:
            supervisor.start()
        except (RuntimeError, TimeoutError) as exc:
            out(f"Could not start the services: {exc}")
            return 1
        url, ports = cluster.gateway_url, cluster.ports
        out(f"""
Switchboard is running on the embedded offline stack.
  REST API     {url}   (OpenAPI: {url}/docs)
  Reports      {url}/report?key={quote(key)}
  API key      {key}
  gRPC         dialer {ports.dialer} speech {ports.speech} brain {ports.brain} store {ports.store}
  Data         {store_description(settings)}

Try a simulated call from another terminal:  .venv/bin/switchboard simulate scenarios/demo.yaml
Press Ctrl-C to stop.""")
        supervisor.watch(lambda: stop)
    except GaveUp as exc:
        out(f"Stopping: {exc}")
        code = 1
    except KeyboardInterrupt:
        pass
    finally:
        _stop_services(cluster)
    return code


def _stop_services(cluster: Cluster) -> None:
    """Stops the services in order (the dialer drains its calls first); a second Ctrl-C
    kills them at once."""
    out("Stopping (the dialer lets live calls finish first; Ctrl-C again to kill) ...")
    try:
        cluster.stop()
    except KeyboardInterrupt:
        out("Killing the services ...")
        cluster.kill_all()


@dataclass(frozen=True)
class VoiceOptions:
    """``simulate --voice``: speak the scenario instead of sending text."""

    sample_rate: int = 8000
    fast: bool = False
    hear_bot: bool = False  # also transcribe the bot's audio as the callee heard it
    carrier: str | None = None  # the callee on this fake carrier's phone (twilio, acs)


def cmd_simulate(
    settings: Settings, scenario_path: Path, as_json: bool, voice: VoiceOptions | None = None
) -> int:
    try:
        scenario = load_scenario(scenario_path)
    except ScenarioError as exc:
        note(str(exc))
        return 2

    def echo(speaker: str, text: str) -> None:
        if not as_json:
            out(f"  {speaker:>6}: {text}")

    if voice is not None and voice.carrier is not None:
        return _simulate_on_carrier(settings, scenario, as_json, voice.carrier, echo)
    with services_for(settings) as services:
        url, key, dialer, speech = (
            services.gateway_url,
            services.api_key,
            services.dialer,
            services.speech,
        )
        callee: SimulatedCallee
        if voice is None:
            mode = "text mode"
            callee = SimulatedCallee(scenario, url, key, dialer, echo=echo)
        else:
            speed = FAST_SPEED if voice.fast else 1.0
            mode = f"voice mode, {voice.sample_rate} Hz, " + (
                f"{speed:g}x real time" if voice.fast else "real time"
            )
            callee = VoiceCallee(
                scenario,
                url,
                key,
                dialer,
                speech,
                echo=echo,
                sample_rate=voice.sample_rate,
                speed=speed,
                transcribe_bot=voice.hear_bot,
            )
        if not as_json:
            out(f"Calling {scenario.phone_number} (simulated callee, {mode})\n")
        result = asyncio.run(callee.run())
        recorded = voice is not None and settings.features.recording_enabled
        report = _report_of(services, result.call, recorded)
    return _show_result(scenario, result.call, report, as_json)


def _simulate_on_carrier(
    settings: Settings, scenario: Scenario, as_json: bool, carrier: str, echo: Echo
) -> int:
    """``--carrier``: services of its own on that carrier, the callee on the fake's phone."""
    # Test support, loaded only here: the fakes need packages a service install lacks.
    from switchboard_cli.scenario_carrier import CarrierCallee
    from switchboard_testing.carrier_rigs import carrier_rig

    rig = carrier_rig(carrier)
    ports = ClusterPorts.free()
    env = rig.service_env(f"http://127.0.0.1:{ports.gateway}")
    with services_for(settings, env, ports=ports) as services:
        callee = CarrierCallee(
            scenario,
            services.gateway_url,
            services.api_key,
            services.speech,
            services.store,
            rig,
            echo=echo,
        )
        if not as_json:
            out(
                f"Calling {scenario.phone_number} through a fake {CARRIER_NAMES[carrier]} "
                f"(its phone is the callee, voice mode, {rig.sample_rate} Hz, real time)\n"
            )
        result = asyncio.run(callee.run())
        report = _report_of(services, result.call, settings.features.recording_enabled)
    return _show_result(scenario, result.call, report, as_json)


def _report_of(
    services: Endpoints, call: dict[str, Any], recorded: bool
) -> tuple[str, Path | None]:
    """The call's report URL, and the saved page (with the recording when ``recorded``)
    when the services are this command's."""
    # Never the key in a printed URL: terminals, scrollback and CI logs keep it.
    url = services.gateway_url
    report_file = None
    if services.started_here:
        report_file = save_report(url, services.api_key, call["call_id"], recorded)
    return f"{url}/report/{call['call_id']}", report_file


def _show_result(
    scenario: Scenario, call: dict[str, Any], report: tuple[str, Path | None], as_json: bool
) -> int:
    """Prints the call (its claim, next action, report) and checks the expected claim."""
    report_url, report_file = report
    mismatches = claim_mismatches(scenario.expect_claim, call.get("claim", {}))
    if as_json:
        out(json.dumps(call, indent=2))
    else:
        out("\nClaim:")
        for name, value in call.get("claim", {}).items():
            out(f"  {name}: {value}")
        if call.get("next_action"):
            out(f"\nNext action: {call['next_action']['action']}")
        if report_file:
            out(f"\nReport saved to {report_file}")
        else:
            out(f"\nReport: {report_url}  (sign in once with ?key=<your API key>)")
        if scenario.expect_claim:
            out("\nExpected claim: " + ("matches" if not mismatches else "DOES NOT MATCH"))
    for line in mismatches:
        sys.stderr.write(f"  {line}\n")
    return 1 if mismatches else 0


def save_report(url: str, key: str, call_id: str, recorded: bool = False) -> Path | None:
    """The call's report page under var/reports; with ``recorded``, its recording beside
    it (``<call id>.wav``), which the saved page plays (the services that served it are
    gone with their temporary data once the simulation ends)."""
    auth = {"Authorization": f"Bearer {key}"}
    folder = private_dir(DATA_DIR / "reports")
    page = ""
    if recorded:
        page = save_recording(url, auth, call_id, folder / f"{call_id}.wav")
    reply = httpx.get(f"{url}/report/{call_id}", headers=auth, timeout=10)
    if reply.status_code != 200:
        return None
    path = folder / f"{call_id}.html"
    path.touch(mode=PRIVATE_FILE_MODE)
    path.chmod(PRIVATE_FILE_MODE)
    text = reply.text
    if page:
        text = re.sub(rf'src="/call/{call_id}/recording[^"]*"', f'src="{page}"', text)
    path.write_text(text, encoding="utf-8")
    return path


def save_recording(url: str, auth: dict[str, str], call_id: str, path: Path) -> str:
    """Waits (5 s at most: it is stored just after the call ended) for the recording and
    saves it 0600 at ``path``; its file name, or "" when there is none."""
    for _ in range(50):
        reply = httpx.get(f"{url}/call/{call_id}/recording", headers=auth, timeout=10)
        if reply.status_code == 200:
            path.touch(mode=PRIVATE_FILE_MODE)
            path.chmod(PRIVATE_FILE_MODE)
            path.write_bytes(reply.content)
            return path.name
        time.sleep(0.1)
    return ""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="switchboard", description=__doc__)
    verbs = parser.add_subparsers(dest="verb", required=True)
    run = verbs.add_parser(
        "run", help="start the five services locally, print the URLs and API key, keep them up"
    )
    run.add_argument(
        "--store",
        choices=STORE_BACKENDS,
        help="the store's database (default: store.backend); postgres and cosmos are "
        "migrated first",
    )
    run.add_argument(
        "--max-restarts",
        type=int,
        default=RestartPolicy.max_restarts,
        help="give up (exit 1) when a service needs more restarts than this within the window",
    )
    run.add_argument(
        "--restart-window",
        type=float,
        default=RestartPolicy.window_sec,
        metavar="SEC",
        help="the window --max-restarts counts in (seconds)",
    )
    migrate = verbs.add_parser(
        "migrate", help="apply the store database's pending schema migrations, then exit"
    )
    migrate.add_argument(
        "--store", choices=STORE_BACKENDS, help="the database to migrate (default: store.backend)"
    )
    migrate.add_argument(
        "--to", type=int, metavar="VERSION", help="stop at this version (postgres, cosmos)"
    )
    simulate = verbs.add_parser("simulate", help="place a simulated call from a scenario file")
    simulate.add_argument("scenario", type=Path)
    simulate.add_argument(
        "--json", action="store_true", help="print the call as GET /call/{id} returns it"
    )
    simulate.add_argument(
        "--voice",
        action="store_true",
        help="speak the lines as audio (Speech.Speak) and transcribe the bot's audio",
    )
    simulate.add_argument(
        "--fast",
        action="store_true",
        help=f"voice mode {FAST_SPEED:g}x faster than real time (the bot's audio too)",
    )
    simulate.add_argument(
        "--rate",
        type=int,
        choices=(8000, 16000),
        default=8000,
        help="voice mode: the line's sample rate (8000: telephone, 16000: wideband)",
    )
    simulate.add_argument(
        "--carrier",
        choices=sorted(CARRIER_NAMES),
        help="voice mode: the dialer places the call through this carrier's local fake (its "
        "real SDK, webhooks and media socket), whose phone is the callee; real time only",
    )
    simulate.add_argument(
        "--hear-bot",
        action="store_true",
        help="voice mode: also print what the callee heard (the bot's audio, transcribed)",
    )
    evaluate = verbs.add_parser(
        "eval", help="run a scenario suite: pass rates, latencies, results.jsonl (and WAVs)"
    )
    add_eval_arguments(evaluate)
    kb = verbs.add_parser("kb", help="the knowledge base: add documents, search them")
    _kb_cli().add_arguments(kb)
    jobs = verbs.add_parser("jobs", help="durable jobs: list them, list and replay dead ones")
    add_jobs_arguments(jobs)
    return parser


def _kb_cli() -> Any:
    # The brain owns the knowledge base; imported by name so the shared package does not
    # depend on a service package at import time.
    return importlib.import_module("switchboard_brain.rag.cli")


def main(argv: list[str] | None = None) -> int:
    # Reports, logs, the API key and the database it starts hold personal data.
    restrict_new_files()
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        if args.verb != "migrate":  # the others call the services, as any client does
            configure_internal_auth(settings.internal_auth)
    except ConfigError as exc:
        note(str(exc))
        return 2
    if args.verb == "run":
        policy = RestartPolicy(args.max_restarts, args.restart_window)
        return cmd_run(with_store(settings, args.store), policy)
    if args.verb == "migrate":
        return cmd_migrate(with_store(settings, args.store), args.to)
    if args.verb == "eval":
        return cmd_eval(settings, args)
    if args.verb == "kb":
        return int(_kb_cli().main(settings, args))
    if args.verb == "jobs":
        return cmd_jobs(settings, args)
    voice = (
        VoiceOptions(
            sample_rate=args.rate, fast=args.fast, hear_bot=args.hear_bot, carrier=args.carrier
        )
        if args.voice
        else None
    )
    if (args.fast or args.rate != 8000 or args.hear_bot or args.carrier) and voice is None:
        note("--fast, --rate, --hear-bot and --carrier apply to --voice only")
        return 2
    if args.carrier and (args.fast or args.rate != 8000 or args.hear_bot):
        note(
            "--carrier: a carrier streams in real time at its own rate (no --fast, --rate or "
            "--hear-bot)"
        )
        return 2
    return cmd_simulate(settings, args.scenario, args.json, voice)


if __name__ == "__main__":
    sys.exit(main())
