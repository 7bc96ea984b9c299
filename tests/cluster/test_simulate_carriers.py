"""``switchboard simulate --voice --carrier twilio|acs``: the CLI as a user runs it.

The command starts the five services on that carrier (its real SDK pointed at the
tests' fake), places the scenario's call through the REST API, lets the fake's phone
speak the callee's lines (Piper) over the carrier's media path, prints the transcript
and checks ``expect_claim``: exit 0 only when the claim matches.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cluster.harness import FIXED_NOW

pytestmark = pytest.mark.cluster

# FIXED_NOW is Tuesday 2026-11-24 in California: yesterday at 9 am, Pacific time.
SCENARIO = """\
phone_number: "+14155550123"
request:
  claim:
    - name: incident_datetime
      type: datetime
      description: when it happened
customer:
  - It happened yesterday at nine in the morning.
  - No, that's all, thank you. Goodbye!
expect_claim:
  incident_datetime: "2026-11-23T09:00:00-08:00"
"""


@pytest.mark.parametrize("carrier", ["twilio", "acs"])
def test_simulate_places_the_call_through_the_carriers_fake_and_fills_the_claim(
    carrier: str, tmp_path: Path
) -> None:
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(SCENARIO)
    env = {
        **os.environ,
        "SWITCHBOARD_CONFIG": str(tmp_path / "none.yaml"),  # no file: pure defaults
        "SWITCHBOARD_API_KEY": "k" * 24,
        "SWITCHBOARD__BRAIN__FIXED_NOW": FIXED_NOW,  # the services inherit it
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "switchboard_cli",
            "simulate",
            "--voice",
            "--carrier",
            carrier,
            str(scenario),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    logs = tmp_path / "var" / "logs"
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}\n(service logs in {logs})"
    out = done.stdout
    assert "through a fake" in out
    assert "  caller: It happened yesterday at nine in the morning." in out
    assert "     bot: Hello, this is Joe from Contoso Insurance" in out
    assert "Expected claim: matches" in out
    reports = list((tmp_path / "var" / "reports").glob("*.html"))
    assert len(reports) == 1


def test_carrier_needs_voice_and_refuses_fast(tmp_path: Path) -> None:
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(SCENARIO)
    for extra in (["--carrier", "acs"], ["--voice", "--fast", "--carrier", "twilio"]):
        done = subprocess.run(
            [sys.executable, "-m", "switchboard_cli", "simulate", *extra, str(scenario)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 2, done.stderr
        assert "--carrier" in done.stderr
