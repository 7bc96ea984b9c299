"""``python -m switchboard_gateway``: configuration errors, serving, logs, SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from switchboard_gateway.__main__ import main
from switchboard_testing.ports import free_tcp_port


def test_a_bad_configuration_exits_with_a_message_naming_the_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SWITCHBOARD_CONFIG", str(tmp_path / "absent.yaml"))
    monkeypatch.setenv("SWITCHBOARD__GATEWAY__PORT", "not-a-port")
    with pytest.raises(SystemExit) as exited:
        main()
    assert "gateway: invalid configuration" in str(exited.value)
    assert "gateway.port" in str(exited.value)


def test_the_gateway_serves_on_the_configured_port_keeps_numbers_out_of_logs_and_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    port = free_tcp_port()
    env = {
        **os.environ,
        "SWITCHBOARD_CONFIG": str(tmp_path / "absent.yaml"),
        "SWITCHBOARD__GATEWAY__PORT": str(port),
        "SWITCHBOARD__GATEWAY__API_KEYS": "[k1]",
        # Nothing listens there: readiness must fail fast, not hang.
        "SWITCHBOARD__SERVICES__DIALER": f"127.0.0.1:{free_tcp_port()}",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "switchboard_gateway"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 15
        while True:
            try:
                if httpx.get(f"{url}/health/liveness", timeout=0.5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the gateway did not start"
            time.sleep(0.1)
        ready = httpx.get(f"{url}/health/readiness", timeout=5)
        assert ready.status_code == 503
        listed = httpx.get(
            f"{url}/call",
            params={"phone_number": "4155550123"},
            headers={"Authorization": "Bearer k1"},
            timeout=5,
        )
        assert listed.status_code == 422
    finally:
        proc.send_signal(signal.SIGTERM)
        _, logs = proc.communicate(timeout=20)
    # uvicorn drains, runs the lifespan shutdown, then re-raises the signal it caught.
    assert proc.returncode in (0, -signal.SIGTERM), logs
    assert "Application shutdown complete." in logs
    assert "4155550123" not in logs
    lines = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
    assert {line["service"] for line in lines} == {"gateway"}
    requests = [line for line in lines if line["message"] == "request"]
    assert {"route": "/call", "status": 422}.items() <= requests[-1].items()
