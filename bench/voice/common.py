"""Shared bits of the voice benchmarks: percentiles, machine info, results, tables."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from results_io import RESULTS, machine, percentile, table, write_results

__all__ = ["RESULTS", "machine", "percentile", "table", "write_results"]
