"""Shared helpers of the speech benchmarks: text normalisation, WER, stats, results."""

from __future__ import annotations

import json
import os
import platform
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "services" / "speech" / "scripts"))

import make_fixtures  # noqa: E402 - lives in the speech service's scripts folder

__all__ = ["make_fixtures"]

_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_ORDINAL = {
    "one": "first",
    "two": "second",
    "three": "third",
    "five": "fifth",
    "eight": "eighth",
    "nine": "ninth",
    "twelve": "twelfth",
}


def number_words(n: int) -> str:
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    for size, name in (
        (10**9, "billion"),
        (10**6, "million"),
        (1000, "thousand"),
        (100, "hundred"),
    ):
        if n >= size:
            rest = n % size
            return f"{number_words(n // size)} {name}" + (f" {number_words(rest)}" if rest else "")
    raise AssertionError(n)


def ordinal_words(n: int) -> str:
    words = number_words(n).split()
    last = words[-1]
    words[-1] = _ORDINAL.get(last) or (last[:-1] + "ieth" if last.endswith("y") else last + "th")
    return " ".join(words)


def _digits(match: re.Match[str]) -> str:
    run = match.group(0)
    if len(run) >= 5 or (len(run) > 1 and run.startswith("0")):
        return " " + " ".join(_ONES[int(d)] for d in run) + " "  # phone-style, digit by digit
    return " " + number_words(int(run)) + " "


def normalise(text: str) -> list[str]:
    """Lower-case words, digits as words, e-mails spoken ("dot", "at"), no punctuation."""
    t = text.lower()
    t = re.sub(r"\b([ap])\.m\.", r"\1m", t)
    t = re.sub(r"(?<=\d),(?=\d{3})", "", t)  # 1,200
    t = re.sub(r"\$(\d+)", r"\1 dollars", t)
    t = re.sub(r"(\d+)(st|nd|rd|th)\b", lambda m: " " + ordinal_words(int(m.group(1))) + " ", t)
    t = re.sub(r"(?<=\w)\.(?=\w)", " dot ", t)
    t = t.replace("@", " at ").replace("%", " percent ").replace("&", " and ")
    # Codes ("cl2048", "7k"): letters one by one, digits one by one, as they are spoken.
    t = re.sub(
        r"\b(?=[a-z]*\d)(?=\d*[a-z])[a-z\d]+\b",
        lambda m: " " + " ".join(_ONES[int(c)] if c.isdigit() else c for c in m.group(0)) + " ",
        t,
    )
    t = re.sub(r"\d+", _digits, t)
    t = t.replace("'", "")
    t = re.sub(r"[^a-z ]+", " ", t)
    words = t.split()
    numeric = set(_ONES) | set(_TENS) | {"hundred", "thousand", "million", "billion"}
    # "three hundred and fifty" is "three hundred fifty".
    return [
        w
        for i, w in enumerate(words)
        if not (
            w == "and"
            and 0 < i < len(words) - 1
            and words[i - 1] in numeric
            and words[i + 1] in numeric
        )
    ]


def edits(ref: list[str], hyp: list[str]) -> int:
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def machine() -> dict[str, Any]:
    load = os.getloadavg()
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_avg_1m_at_start": round(load[0], 2),
        "note": "shared 2-core machine: other engineers' jobs may run at the same time",
    }


def write_results(name: str, payload: dict[str, Any]) -> Path:
    out = REPO / "bench" / "results" / f"speech_{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": machine(), **payload}, indent=1), encoding="utf-8")
    return out


def table(headers: list[str], rows: list[list[Any]]) -> str:
    cells = [headers, *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [" | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)
