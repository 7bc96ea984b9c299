"""``switchboard simulate --voice --carrier twilio|acs``: the CLI as a user runs it.

The demo scenario (``scenarios/demo.yaml``, four claim fields) goes through each
carrier: the command starts the five services on that carrier (its real SDK pointed at the
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
import yaml

from switchboard_cli.scenario import claim_mismatches
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


DEMO = Path(__file__).resolve().parents[2] / "scenarios" / "demo.yaml"


def simulate(carrier: str, scenario: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """``switchboard simulate --voice --carrier <carrier> <scenario>`` run as a user runs it."""
    env = {
        **os.environ,
        "SWITCHBOARD_CONFIG": str(tmp_path / "none.yaml"),  # no file: pure defaults
        "SWITCHBOARD_API_KEY": "k" * 24,
        "SWITCHBOARD__BRAIN__FIXED_NOW": FIXED_NOW,  # the services inherit it
    }
    return subprocess.run(
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


@pytest.mark.parametrize("carrier", ["twilio", "acs"])
def test_simulate_places_the_demo_call_through_the_carriers_fake_and_fills_the_whole_claim(
    carrier: str, tmp_path: Path
) -> None:
    # The acceptance: the demo scenario, four fields. Twilio's line is 8 kHz
    # µ-law (ACS's 16 kHz PCM), where tiny.en writes "March 3rd 2026 at 2:30 pm" as
    # "March 3 2020 26 at 2 30 p.m." and the e-mail as "John. Smith at example. com":
    # every typed value must still come out exactly. The free-text description is
    # stored as heard, and tiny.en sometimes mishears a word of it at 8 kHz ("a pipe
    # first", "I piped burst"): it must be there with most of its words.
    expected = yaml.safe_load(DEMO.read_text())["expect_claim"]

    done = simulate(carrier, DEMO, tmp_path)

    logs = tmp_path / "var" / "logs"
    out = done.stdout
    lines = out.partition("\nClaim:\n")[2].partition("\n\n")[0].splitlines()
    claim = dict(line.strip().split(": ", 1) for line in lines if ": " in line)
    failed = f"{out}\n{done.stderr}\n(service logs in {logs})"
    assert set(claim) >= set(expected), f"not filled: {set(expected) - set(claim)}\n{failed}"
    typed = {k: v for k, v in expected.items() if k != "incident_description"}
    assert claim_mismatches(typed, claim) == [], failed
    said = set(expected["incident_description"].split())
    heard = set(claim["incident_description"].lower().strip(".").split())
    assert len(said & heard) >= 0.8 * len(said), failed
    assert done.returncode in (0, 1) and "Traceback" not in done.stderr, failed
    assert "through a fake" in out
    assert "  caller: It happened on March 3rd 2026 at 2:30 pm." in out
    assert "     bot: Hello, this is Joe from Contoso Insurance" in out
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
