"""A stack sampler for the benchmarks' service processes (py-spy is not installed here).

Python imports ``sitecustomize`` at start-up from ``sys.path``; the capacity benchmark
puts this folder first on the services' ``PYTHONPATH`` when ``--profile DIR`` is given,
with ``SWITCHBOARD_BENCH_PROFILE_DIR=DIR``. A daemon thread then reads the main
thread's stack every ``INTERVAL_SEC`` and counts it; the counts are written every few
seconds to ``DIR/<module>-<pid>.folded`` in the collapsed format of flame graphs
(``frame;frame;leaf count``). Samples are taken only while ``DIR/sampling`` exists (the
benchmark creates it for its measured window), so start-up and shutdown stay out.
The sampler needs the GIL to look, so a sample lands
only when the main thread lets go of it (every ``sys.getswitchinterval()`` at most):
good enough to see where the time goes, not a cycle-exact profile.
"""

from __future__ import annotations

import atexit
import collections
import os
import sys
import threading
import time

INTERVAL_SEC = 0.002
FLUSH_SEC = 5.0
CHECK_SEC = 0.2
MAX_DEPTH = 40


def _frame_name(frame: object) -> str:
    code = frame.f_code  # type: ignore[attr-defined]
    path = code.co_filename
    for marker in ("site-packages/", "switchboard_", "lib/python3"):
        at = path.find(marker)
        if at >= 0:
            path = path[at:]
            break
    return f"{code.co_name} ({path}:{code.co_firstlineno})"


def _start(directory: str) -> None:
    main = threading.main_thread().ident
    counts: collections.Counter[str] = collections.Counter()
    service = next((a for a in sys.orig_argv if a.startswith("switchboard_")), "python")
    path = os.path.join(directory, f"{service}-{os.getpid()}.folded")

    def flush() -> None:
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            for stack, count in counts.most_common():
                handle.write(f"{stack} {count}\n")
        os.replace(tmp, path)

    marker = os.path.join(directory, "sampling")

    def run() -> None:
        flushed = time.monotonic()
        checked, sampling = 0.0, False
        while True:
            time.sleep(INTERVAL_SEC)
            if time.monotonic() - checked > CHECK_SEC:
                checked, sampling = time.monotonic(), os.path.exists(marker)
            if not sampling:
                continue
            frame = sys._current_frames().get(main)
            names = []
            while frame is not None and len(names) < MAX_DEPTH:
                names.append(_frame_name(frame))
                frame = frame.f_back
            counts[";".join(reversed(names))] += 1
            if time.monotonic() - flushed > FLUSH_SEC:
                flush()
                flushed = time.monotonic()

    os.makedirs(directory, exist_ok=True)
    threading.Thread(target=run, name="bench-stack-sampler", daemon=True).start()
    atexit.register(flush)


if os.environ.get("SWITCHBOARD_BENCH_PROFILE_DIR"):
    _start(os.environ["SWITCHBOARD_BENCH_PROFILE_DIR"])
