"""``switchboard jobs``: what an operator does with the store's durable jobs.

``jobs list [--state S]`` shows jobs (the Redis streams' when ``redis.enabled``, else the
database's); ``jobs dead`` the ones that failed too often; ``jobs replay JOB_ID`` gives
a dead one back to the workers with its tries counted from zero. All through the
store's gRPC API at ``services.store``, so the CLI needs no database or Redis access.
"""

from __future__ import annotations

import argparse
import asyncio

from switchboard.config import Settings
from switchboard.errors import SwitchboardError
from switchboard.jobs import Job, JobState
from switchboard.store_client import StoreClient
from switchboard_cli.local import out

STATES = [s.value for s in JobState]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="jobs_action", required=True)
    listing = actions.add_parser("list", help="jobs, oldest first")
    listing.add_argument("--state", choices=STATES, help="only jobs in this state")
    listing.add_argument("--limit", type=int, default=100, help="at most this many (1..100)")
    dead = actions.add_parser("dead", help="the dead-letter jobs: failed on every try")
    dead.add_argument("--limit", type=int, default=100, help="at most this many (1..100)")
    replay = actions.add_parser("replay", help="give a dead job back to the workers")
    replay.add_argument("job_id", help="as `jobs dead` shows it, e.g. post_call:<call id>:1")


def describe(job: Job) -> str:
    """One line per job; its error text may quote call data, so it stays in the store."""
    updated = job.updated_at.isoformat(timespec="seconds") if job.updated_at else "-"
    return f"{job.job_id}  {job.state.value:<7}  tries={job.attempts}  updated={updated}"


async def run_jobs(settings: Settings, args: argparse.Namespace) -> int:
    client = StoreClient(settings.services.store)
    try:
        if args.jobs_action == "replay":
            job = await client.replay_job(args.job_id)
            out(f"replayed: {describe(job)}")
            return 0
        state = JobState.DEAD if args.jobs_action == "dead" else _state(args.state)
        jobs = await client.list_jobs(state, args.limit)
        for job in jobs:
            out(describe(job))
        out(f"{len(jobs)} job(s)")
        return 0
    except SwitchboardError as exc:
        out(f"jobs {args.jobs_action}: {exc.message}")
        return 1
    finally:
        await client.close()


def _state(value: str | None) -> JobState | None:
    return JobState(value) if value else None


def cmd_jobs(settings: Settings, args: argparse.Namespace) -> int:
    return asyncio.run(run_jobs(settings, args))
