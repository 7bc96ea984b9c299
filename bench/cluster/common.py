"""Shared bits of the whole-system benchmarks: paths, results, tables, the command line.

Scripts run as ``python bench/cluster/<name>.py``; importing this puts ``bench/`` (for
``results_io``) and ``testing/`` (the fake Twilio) on ``sys.path``.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "testing"))

from results_io import RESULTS, machine, percentile, table, write_results  # noqa: E402

__all__ = ["REPO", "RESULTS", "command_line", "machine", "percentile", "table", "write_results"]


def command_line() -> str:
    """The command that reproduces this run, as typed from the repository root."""
    script = Path(sys.argv[0]).resolve()
    try:
        script = script.relative_to(REPO)
    except ValueError:
        pass
    return shlex.join([".venv/bin/python", str(script), *sys.argv[1:]])
