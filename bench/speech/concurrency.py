"""How many Listen streams one speech process sustains in real time.

N streams each play the same few clips back to back, every frame paced at 20 ms,
against a real ``python -m switchboard_speech`` process. A level is sustained
when every utterance gets its final and the p95 from the end of the silence
window to the final stays under --budget-ms (default 1000 ms). The client runs
on the same machine, so it competes for the same cores (pessimistic).

    .venv/bin/python bench/speech/concurrency.py [--levels 1,2,4,6,8] [--clips 3]
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from common import make_fixtures, percentile, table, write_results
from service import speech_service, stream_clips


async def main_async(args: argparse.Namespace) -> None:
    clips = make_fixtures.ensure_clips(
        list(range(args.clips)), ("piper",), (args.rate,), ("clean",)
    )
    pcms = [clip.pcm() for clip in clips]
    rows: list[list[Any]] = []
    levels: list[dict[str, Any]] = []
    sustained = 0
    async with speech_service() as stub:
        await stream_clips(stub, pcms[:1], args.rate, "warm", paced_tail_ms=1400)
        for n in (int(x) for x in args.levels.split(",")):
            runs = await asyncio.gather(
                *[
                    stream_clips(
                        stub,
                        pcms[i % len(pcms) :] + pcms[: i % len(pcms)],
                        args.rate,
                        f"bench-{n}-{i}",
                        paced_tail_ms=None,
                    )
                    for i in range(n)
                ]
            )
            latencies = [f.window_latency_ms for run in runs for f in run.finals]
            finals = sum(len(run.finals) for run in runs)
            late = sum(run.late_writes for run in runs)
            p50, p95 = percentile(latencies, 0.5), percentile(latencies, 0.95)
            ok = finals == n * len(pcms) and p95 <= args.budget_ms
            sustained = n if ok else sustained
            rows.append(
                [
                    n,
                    f"{finals}/{n * len(pcms)}",
                    f"{p50:.0f}",
                    f"{p95:.0f}",
                    late,
                    "yes" if ok else "no",
                ]
            )
            levels.append(
                {
                    "streams": n,
                    "finals": finals,
                    "expected": n * len(pcms),
                    "p50_ms": p50,
                    "p95_ms": p95,
                    "late_writes": late,
                    "sustained": ok,
                    "latencies_ms": latencies,
                }
            )
            if not ok and not args.keep_going:
                break
    print(f"rate {args.rate} Hz, budget p95 <= {args.budget_ms} ms")  # noqa: T201
    print(table(["streams", "finals", "p50 ms", "p95 ms", "late writes", "sustained"], rows))  # noqa: T201
    print(f"sustained in real time: {sustained} concurrent Listen streams")  # noqa: T201
    out = write_results(
        f"concurrency_{args.rate}",
        {
            "rate": args.rate,
            "budget_ms": args.budget_ms,
            "levels": levels,
            "sustained_streams": sustained,
        },
    )
    print("results:", out)  # noqa: T201


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--levels", default="1,2,4,6,8")
    parser.add_argument("--clips", type=int, default=3)
    parser.add_argument("--rate", type=int, default=8000)
    parser.add_argument("--budget-ms", type=float, default=1000.0)
    parser.add_argument("--keep-going", action="store_true")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
