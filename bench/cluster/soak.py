"""Text-mode soak: 50 simulated calls at a time for 10 minutes against the five services as
``switchboard run`` starts them (its launcher, the embedded defaults, real models loaded).

Each line of the load registers a text phone on ``Dialer.Phone`` (as ``switchboard
simulate`` does), places a call with ``POST /call``, answers it, says one claim answer
``--think`` seconds after each bot turn, hangs up after ``--call-sec`` and dials again
with a fresh number; the lines start spread over one call's length. Passes when no call
failed (every call reached ``ended``, never ``failed``, and its phone saw the end), every
service's RSS grew less than 10 % from the end of the warm-up to the end, and no service
holds more open descriptors after the calls than before them.

    .venv/bin/python bench/cluster/soak.py [--calls 50] [--minutes 10] [--warmup 90]
        [--call-sec 60] [--think 2]

Prints a table and the command line, writes bench/results/cluster_soak.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from common import command_line, table, write_results
from procstats import ProcessSample, samples

from switchboard.phone import (
    BotTurnDone,
    PhoneAnswer,
    PhoneCallEnded,
    PhoneHangUp,
    PhoneMode,
    PhoneRegister,
    PhoneRinging,
    PhoneSay,
)
from switchboard.phone_client import PhoneClient
from switchboard_cli.launcher import Cluster, ClusterPorts

RSS_GROWTH_LIMIT = 10.0  # percent
FIELDS = 50
RING_TIMEOUT_SEC = 30.0
END_TIMEOUT_SEC = 30.0
PRIME_SEC = 5.0
STATE_TIMEOUT_SEC = 10.0
SETTLE_SEC = 3.0
KEEPALIVE_SEC = 2.0
REQUEST = {
    "bot_company": "Bench Co",
    "bot_name": "Joe",
    "agent_phone_number": "+14155550199",
    "task": "Collect the answers.",
    "claim": [
        {"name": f"answer_{i}", "type": "text", "description": f"answer {i}"} for i in range(FIELDS)
    ],
}


async def request(api: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """A request sent again once when the connection broke before an answer came.

    Safe because GET is read-only and every ``POST /call`` carries an Idempotency-Key, as
    a careful client does: a retried request never dials twice."""
    try:
        return await api.request(method, url, **kwargs)
    except httpx.TransportError:
        return await api.request(method, url, **kwargs)


class Load:
    """The calls of the soak: counts, failures and fresh numbers."""

    def __init__(self, cluster: Cluster, think: float, call_sec: float) -> None:
        self.cluster = cluster
        self.think = think
        self.call_sec = call_sec
        self.placed = 0
        self.failures: list[str] = []
        self.turns = 0
        self._number = 3_000_000
        self.stop = asyncio.Event()

    def number(self) -> str:
        self._number += 1
        return f"+1415{self._number:07d}"

    async def line(self, phones: PhoneClient, api: httpx.AsyncClient, delay: float) -> None:
        """Calls one after another, the first after ``delay`` seconds."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop.wait(), delay)
        while not self.stop.is_set():
            if not await self.attempt(phones, api, self.call_sec):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stop.wait(), 1.0)

    async def attempt(self, phones: PhoneClient, api: httpx.AsyncClient, length: float) -> bool:
        """One call with a fresh number; False (and the failure counted) when it failed."""
        self.placed += 1
        try:
            await self.call(phones, api, self.number(), length)
        except (Exception, TimeoutError) as exc:  # every failure is counted, none stops
            self.failures.append(f"{type(exc).__name__}: {exc}"[:300])
            return False
        return True

    async def call(
        self, phones: PhoneClient, api: httpx.AsyncClient, number: str, length: float = 0.0
    ) -> None:
        """One call of ``length`` seconds (default ``call_sec``); raises when it failed."""
        phone = await phones.register(PhoneRegister(number, PhoneMode.TEXT))
        try:
            placed = await request(
                api,
                "POST",
                "/call",
                json={**REQUEST, "phone_number": number},
                headers={"Idempotency-Key": secrets.token_hex(16)},
            )
            if placed.status_code != 201:
                raise RuntimeError(f"POST /call answered {placed.status_code}: {placed.text[:200]}")
            call_id = str(placed.json()["call_id"])
            await self.converse(phone, length or self.call_sec)
        finally:
            await phone.close()
        # The phone hears the end as the dialer hangs up; the store records it just after.
        deadline = time.monotonic() + STATE_TIMEOUT_SEC
        while (view := (await request(api, "GET", f"/call/{call_id}")).json()).get("in_progress"):
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"call still {view.get('state')!r} {STATE_TIMEOUT_SEC:g} s after its end"
                )
            await asyncio.sleep(0.2)
        if view.get("state") != "ended":
            raise RuntimeError(
                f"call ended in state {view.get('state')!r} ({view.get('state_reason')})"
            )

    async def converse(self, phone: Any, length: float) -> None:
        """Answers, talks until the call's time is up, hangs up and waits for the end.

        The phone's events are read by a task of their own into a queue: a timeout must
        never cancel a pending read, which in grpc.aio cancels the whole stream (the dialer
        would see the line drop)."""
        events: asyncio.Queue[Any] = asyncio.Queue()

        async def read() -> None:
            async for event in phone.events():
                events.put_nowait(event)
            events.put_nowait(None)

        reader = asyncio.create_task(read(), name="soak-phone-reader")
        try:
            await self._talk(phone, events, length)
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader

    async def _talk(self, phone: Any, events: asyncio.Queue[Any], length: float) -> None:
        async def next_event(within_sec: float) -> Any:
            event = await asyncio.wait_for(events.get(), within_sec)
            if event is None:
                raise RuntimeError("the phone stream ended before the call did")
            return event

        deadline = time.monotonic() + RING_TIMEOUT_SEC
        while not isinstance(event := await next_event(deadline - time.monotonic()), PhoneRinging):
            pass
        await phone.send(PhoneAnswer(event.call_id))
        hang_up_at = time.monotonic() + length
        turn = 0
        while (left := hang_up_at - time.monotonic()) > 0 and not self.stop.is_set():
            try:
                event = await next_event(min(left, 5.0))
            except TimeoutError:
                continue
            if isinstance(event, PhoneCallEnded):
                return  # the bot ended it (the form is complete): not a failure
            if isinstance(event, BotTurnDone):
                await asyncio.sleep(self.think)
                turn += 1
                self.turns += 1
                await phone.send(PhoneSay(f"My answer is number {turn}."))
        await phone.send(PhoneHangUp("caller_hangup"))
        deadline = time.monotonic() + END_TIMEOUT_SEC
        while not isinstance(await next_event(deadline - time.monotonic()), PhoneCallEnded):
            pass


async def soak(
    cluster: Cluster, calls: int, minutes: float, warmup: float, call_sec: float, think: float
) -> dict[str, Any]:
    pids = {name: proc.pid for name, proc in cluster.processes.items()}
    load = Load(cluster, think, call_sec)
    phones = PhoneClient(cluster.ports.grpc_address("dialer"))
    headers = {"Authorization": f"Bearer {cluster.api_key}"}
    trace: list[tuple[float, dict[str, ProcessSample]]] = []
    # Idle connections are dropped before the gateway's keep-alive (5 s) ends, so a request
    # never goes out on a connection the server is closing at that moment.
    limits = httpx.Limits(keepalive_expiry=KEEPALIVE_SEC)
    async with httpx.AsyncClient(
        base_url=cluster.gateway_url, headers=headers, timeout=30, limits=limits
    ) as api:
        # A first round of short calls at full concurrency, so "before" is after the lazy
        # start-up (channels, the store's reader pool grown to this load).
        await asyncio.gather(*(load.attempt(phones, api, PRIME_SEC) for _ in range(calls)))
        await asyncio.sleep(SETTLE_SEC)
        idle = samples(pids)
        # The lines start spread over one call's length, as calls arrive in real life: calls
        # started together would also end together, and a baseline read in that lull would
        # count the steady state's calls in progress as growth.
        lines = [
            asyncio.create_task(load.line(phones, api, i * call_sec / calls), name=f"line-{i}")
            for i in range(calls)
        ]
        started = time.monotonic()
        try:
            await asyncio.sleep(warmup)
            end = time.monotonic() + minutes * 60
            while True:
                trace.append((time.monotonic() - started, samples(pids)))
                if time.monotonic() >= end:
                    break
                await asyncio.sleep(min(15.0, end - time.monotonic()))
        finally:
            load.stop.set()
            await asyncio.gather(*lines, return_exceptions=True)
            await phones.close()
    await asyncio.sleep(SETTLE_SEC)  # streams and store connections of the last calls close
    settled = samples(pids)
    first, last = trace[0][1], trace[-1][1]
    return {
        "calls_at_a_time": calls,
        "minutes": minutes,
        "calls_placed": load.placed,
        "calls_failed": len(load.failures),
        "failures": sorted(set(load.failures))[:10],
        "turns": load.turns,
        "services": {
            name: {
                "rss_start_mib": round(first[name].rss_kib / 1024, 1),
                "rss_end_mib": round(last[name].rss_kib / 1024, 1),
                "rss_growth_percent": round(
                    100 * (last[name].rss_kib - first[name].rss_kib) / first[name].rss_kib, 1
                ),
                "fds_before": idle[name].fds,
                "fds_after": settled[name].fds,
            }
            for name in pids
        },
        "rss_trace_mib": [
            [round(t), {n: round(s.rss_kib / 1024, 1) for n, s in point.items()}]
            for t, point in trace
        ],
    }


def main(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory() as root:
        cluster = Cluster(
            ports=ClusterPorts.free(),
            api_key=secrets.token_urlsafe(16),
            data_dir=Path(root) / "data",
            log_dir=Path(root) / "logs",
            env={
                "SWITCHBOARD_CONFIG": str(Path(root) / "none.yaml"),
                "SWITCHBOARD__LOGGING__FORMAT": "text",  # as `switchboard run` logs
                "SWITCHBOARD__GATEWAY__RATE_LIMITS__CALLS_PER_KEY": "0",
                "SWITCHBOARD__GATEWAY__RATE_LIMITS__CALLS_PER_ADDRESS": "0",
            },
        )
        cluster.start()
        try:
            result = asyncio.run(
                soak(cluster, args.calls, args.minutes, args.warmup, args.call_sec, args.think)
            )
        finally:
            cluster.stop()
    services = result["services"]
    passed = (
        result["calls_failed"] == 0
        and all(s["rss_growth_percent"] < RSS_GROWTH_LIMIT for s in services.values())
        and all(s["fds_after"] <= s["fds_before"] for s in services.values())
    )
    headers = ["service", "RSS start MiB", "RSS end MiB", "growth %", "fds before", "fds after"]
    rows = [
        [
            name,
            s["rss_start_mib"],
            s["rss_end_mib"],
            s["rss_growth_percent"],
            s["fds_before"],
            s["fds_after"],
        ]
        for name, s in services.items()
    ]
    print(table(headers, rows))  # noqa: T201
    print(  # noqa: T201
        f"\n{result['calls_placed']} calls placed ({args.calls} at a time, {args.minutes:g} min "
        f"after {args.warmup:g} s of warm-up), {result['calls_failed']} failed, "
        f"{result['turns']} caller turns; load average {os.getloadavg()[0]:.1f}"
    )
    for failure in result["failures"]:
        print(f"  failure: {failure}")  # noqa: T201
    print("PASS" if passed else "FAIL")  # noqa: T201
    path = write_results(
        "cluster_soak",
        {
            "command": command_line(),
            "passed": passed,
            "load_average": list(os.getloadavg()),
            **result,
        },
    )
    print(f"\nreproduce: {command_line()}\nwrote {path}")  # noqa: T201
    return 0 if passed else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=50, help="simulated calls at a time")
    parser.add_argument("--minutes", type=float, default=10.0, help="measured, after --warmup")
    parser.add_argument(
        "--warmup",
        type=float,
        default=90.0,
        help="seconds before the RSS baseline; at least --call-sec, so every line has started",
    )
    parser.add_argument("--call-sec", type=float, default=60.0, help="each call's length")
    parser.add_argument("--think", type=float, default=2.0, help="caller's pause before a line")
    raise SystemExit(main(parser.parse_args()))
