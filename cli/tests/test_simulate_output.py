"""``switchboard simulate --json`` prints JSON only: notices and progress go to stderr."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from switchboard.config import Settings
from switchboard_cli import cli, local
from switchboard_cli.scenario import SimulationResult


class StartedCluster:
    """Stands in for the launcher: ``services_for`` starts it when nothing answers."""

    started = 0

    def __init__(self, **kwargs: object) -> None:
        self.ports = local.ports_from(Settings())
        self.gateway_url = "http://127.0.0.1:1"

    def start(self) -> None:
        StartedCluster.started += 1

    def stop(self) -> dict[str, int]:
        return {}


class Callee:
    def __init__(self, *args: object, **kwargs: object) -> None:
        echo = kwargs["echo"]
        assert callable(echo)
        echo("bot", "Hello, this is Joe.")  # a transcript line: must not reach --json stdout

    async def run(self) -> SimulationResult:
        call = {"call_id": "c-1", "claim": {"email": "a@example.com"}, "next_action": None}
        return SimulationResult(call=call, heard=[])


@pytest.fixture
def no_services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(local.API_KEY_ENV, "k")
    monkeypatch.setattr(local, "http_ready", lambda url: False)
    monkeypatch.setattr(local, "Cluster", StartedCluster)
    monkeypatch.setattr(cli, "SimulatedCallee", Callee)
    monkeypatch.setattr(cli, "save_report", lambda url, key, call_id, recorded: None)
    scenario = tmp_path / "s.yaml"
    scenario.write_text('phone_number: "+14155550123"\n')
    StartedCluster.started = 0
    yield scenario


def test_simulate_json_starting_the_services_prints_only_the_call_on_stdout(
    no_services: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.cmd_simulate(Settings(), no_services, as_json=True) == 0

    printed = capsys.readouterr()
    assert StartedCluster.started == 1
    assert json.loads(printed.out) == {
        "call_id": "c-1",
        "claim": {"email": "a@example.com"},
        "next_action": None,
    }
    assert "No services running" in printed.err
    assert "starting them" not in printed.out


def test_simulate_without_json_still_prints_the_transcript_and_claim_on_stdout(
    no_services: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.cmd_simulate(Settings(), no_services, as_json=False) == 0

    printed = capsys.readouterr()
    assert "Hello, this is Joe." in printed.out
    assert "email: a@example.com" in printed.out
    assert "No services running" in printed.err


def test_a_bad_scenario_is_reported_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "bad.yaml"
    scenario.write_text("phone_number: 12\n")

    assert cli.cmd_simulate(Settings(), scenario, as_json=True) == 2

    printed = capsys.readouterr()
    assert printed.out == ""
    assert printed.err.strip()
