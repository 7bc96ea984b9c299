"""Shared bits of the brain benchmarks: percentiles, machine facts, writing results."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
# bench/ (shared helpers), the scripted model and in-memory store of the brain's tests,
# and tests.cluster.
for extra in (ROOT / "bench", ROOT, ROOT / "services" / "brain" / "tests"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from results_io import RESULTS, machine, percentile, write_results  # noqa: E402 - path above

__all__ = ["RESULTS", "machine", "percentile", "table", "write", "write_results"]


def write(name: str, results: dict[str, Any]) -> Path:
    return write_results(name, results)


def table(rows: list[tuple[str, str]]) -> None:
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        sys.stdout.write(f"{key:<{width}}  {value}\n")
