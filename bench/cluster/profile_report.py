"""Where a service's time went, from the stacks ``capacity.py --profile DIR`` sampled.

    .venv/bin/python bench/cluster/profile_report.py DIR [--service dialer] [--top 25]

Samples whose innermost frame is the event loop's ``select`` are idle; of the others
it prints the functions most often on top of the stack (self) and most often anywhere
on it (inclusive), as shares of the busy samples.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

IDLE = "select (lib/python3.11/selectors.py"
# Frames every busy sample passes through: the loop itself, not the work.
FRAMEWORK = (
    "runpy",
    "asyncio/runners.py",
    "asyncio/base_events.py",
    "__main__.py",
    "service_main.py",
)


def load(directory: Path, service: str) -> Counter[tuple[str, ...]]:
    stacks: Counter[tuple[str, ...]] = Counter()
    for path in directory.glob(f"switchboard_{service}-*.folded"):
        for line in path.read_text(encoding="utf-8").splitlines():
            stack, _, count = line.rpartition(" ")
            stacks[tuple(stack.split(";"))] += int(count)
    return stacks


def report(stacks: Counter[tuple[str, ...]], top: int) -> str:
    total = sum(stacks.values())
    busy = {s: c for s, c in stacks.items() if not s[-1].startswith(IDLE)}
    busy_total = sum(busy.values()) or 1
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for stack, count in busy.items():
        own[stack[-1]] += count
        for frame in set(stack):
            if not any(marker in frame for marker in FRAMEWORK):
                inclusive[frame] += count
    lines = [f"{total} samples, {100 * busy_total / max(total, 1):.1f} % busy", "", "self:"]
    lines += [f"  {100 * c / busy_total:5.1f} %  {f}" for f, c in own.most_common(top)]
    lines += ["", "inclusive:"]
    lines += [f"  {100 * c / busy_total:5.1f} %  {f}" for f, c in inclusive.most_common(top)]
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--service", default="dialer")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    print(report(load(args.directory, args.service), args.top))  # noqa: T201
