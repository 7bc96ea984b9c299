"""The CLI keeps the local API key private and never prints it inside a URL."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from switchboard_cli import local


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(local.API_KEY_ENV, raising=False)
    old = os.umask(0o022)
    try:
        yield tmp_path
    finally:
        os.umask(old)


def test_the_generated_api_key_file_and_var_are_readable_by_their_owner_only(
    in_tmp: Path,
) -> None:
    key = local.local_api_key()

    assert (in_tmp / "var" / "api-key").read_text() == key
    assert mode(in_tmp / "var") == 0o700
    assert mode(in_tmp / "var" / "api-key") == 0o600


def test_a_key_file_left_readable_by_an_older_run_is_tightened_when_read(in_tmp: Path) -> None:
    (in_tmp / "var").mkdir(mode=0o755)
    (in_tmp / "var" / "api-key").write_text("old-key")
    (in_tmp / "var" / "api-key").chmod(0o644)

    assert local.local_api_key() == "old-key"
    assert mode(in_tmp / "var") == 0o700
    assert mode(in_tmp / "var" / "api-key") == 0o600


def test_simulate_prints_no_url_carrying_the_api_key(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import contextlib

    from switchboard.config import Settings
    from switchboard_cli import cli
    from switchboard_cli.scenario import SimulationResult

    key = "the-secret-api-key"

    @contextlib.contextmanager
    def running(settings: Settings) -> Iterator[local.Endpoints]:
        yield local.Endpoints("http://127.0.0.1:8080", key, "d:1", "s:1", "st:1")

    class Callee:
        def __init__(self, *args: object, **kwargs: object) -> None:
            pass

        async def run(self) -> SimulationResult:
            return SimulationResult(call={"call_id": "c-1", "claim": {}}, heard=[])

    monkeypatch.setattr(cli, "services_for", running)
    monkeypatch.setattr(cli, "SimulatedCallee", Callee)
    scenario = in_tmp / "s.yaml"
    scenario.write_text('phone_number: "+14155550123"\n')

    assert cli.cmd_simulate(Settings(), scenario, as_json=False) == 0

    printed = capsys.readouterr().out
    assert "http://127.0.0.1:8080/report/c-1" in printed
    assert key not in printed
