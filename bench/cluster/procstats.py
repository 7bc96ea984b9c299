"""What a service process costs, read from ``/proc``: CPU time, resident memory, open files.

Linux only (the benchmarks' machine); no dependency beyond the standard library.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class ProcessSample:
    """One reading of a process: seconds of CPU so far, RSS in KiB, open descriptors."""

    cpu_sec: float
    rss_kib: int
    fds: int


def sample(pid: int) -> ProcessSample:
    """Reads ``pid`` now; raises ``OSError`` when it is gone."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
        # The command name may hold spaces: fields count from after its ")".
        fields = handle.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime
    rss = 0
    with open(f"/proc/{pid}/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
                break
    return ProcessSample(cpu, rss, len(os.listdir(f"/proc/{pid}/fd")))


def samples(pids: dict[str, int]) -> dict[str, ProcessSample]:
    """A reading of every named process."""
    return {name: sample(pid) for name, pid in pids.items()}


def cpu_percent(before: ProcessSample, after: ProcessSample, wall_sec: float) -> float:
    """Share of one core used between two readings (100 = one core busy)."""
    return 100 * (after.cpu_sec - before.cpu_sec) / wall_sec if wall_sec > 0 else 0.0
