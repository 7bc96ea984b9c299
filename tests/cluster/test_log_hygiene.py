"""Log hygiene: every service's log output over whole calls and hostile probes holds no
phone number, e-mail address, claim value or transcript line (personal data goes only
under ``pii_*`` keys, which are dropped by default)."""

from __future__ import annotations

import asyncio
import re
import stat
from pathlib import Path
from typing import Any

import httpx
import yaml

from switchboard_cli.launcher import Cluster
from switchboard_cli.scenario import Scenario
from switchboard_cli.scenario_voice import VoiceCallee
from tests.cluster.harness import simulate, unique_number
from tests.cluster.inbound_caller import call_in

SCENARIOS = Path(__file__).parents[2] / "scenarios" / "eval"
# A whole call that fills every kind of claim field, and the probes of the security suite.
CALLS = [
    "insurance/demo_water_damage.yaml",
    "insurance/spelled_email.yaml",
    "security/other_callers_data.yaml",
    "security/injection_in_answer.yaml",
    "security/reveal_prompt.yaml",
]
E164 = re.compile(r"\+\d{10,15}")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Transcript lines shorter than this ("bye", "yes") are ordinary words, not evidence.
MIN_LINE_CHARS = 12


def _log_sizes(log_dir: Path) -> dict[Path, int]:
    return {path: path.stat().st_size for path in log_dir.glob("*.log")}


def _logged_since(log_dir: Path, sizes: dict[Path, int]) -> dict[str, list[str]]:
    logged = {}
    for path in sorted(log_dir.glob("*.log")):
        with path.open("rb") as handle:
            handle.seek(sizes.get(path, 0))
            logged[path.stem] = handle.read().decode(errors="replace").splitlines()
    return logged


def _personal_data(call: dict[str, Any]) -> set[str]:
    """What must never be logged: the number, claim values and the words said."""
    found = {call["initiate"]["phone_number"]}
    found |= {str(v) for v in call.get("claim", {}).values() if len(str(v)) >= 4}
    for message in call.get("messages", []):
        content = str(message.get("content") or "")
        if len(content) >= MIN_LINE_CHARS:
            found.add(content)
    return found


def _run_calls(cluster: Cluster) -> set[str]:
    secrets: set[str] = set()
    for name in CALLS:
        scenario = yaml.safe_load((SCENARIOS / name).read_text())
        number = unique_number()
        result = simulate(
            cluster,
            {
                "phone_number": number,
                "request": scenario.get("request", {}),
                "customer": scenario["customer"],
            },
        )
        secrets |= _personal_data(result.call)
    # A caller with someone else's number as caller ID.
    spoofed = unique_number()
    heard = asyncio.run(
        call_in(cluster.ports.grpc_address("dialer"), spoofed, ["Jane Roe here, my boiler leaks."])
    )
    secrets |= {spoofed, "Jane Roe here, my boiler leaks.", *heard.heard}
    return {s for s in secrets if len(s) >= 4}


def _probe_rest(cluster: Cluster) -> set[str]:
    """Bad REST input carrying personal data: refused, and not logged."""
    number, email = unique_number(), "probe.person@example.net"
    headers = {"Authorization": f"Bearer {cluster.api_key}"}
    with httpx.Client(base_url=cluster.gateway_url, headers=headers, timeout=10) as api:
        api.post("/call", json={"phone_number": number, "task": email, "claim": "x"})
        api.post("/call", json={"phone_number": f"{number}999999", "bot_name": email})
        api.get("/call", params={"phone_number": number})
        api.get(f"/call/{email}")
    return {number, email}


def _leaks(logged: dict[str, list[str]], secrets: set[str]) -> list[str]:
    return [
        f"{service}: {line[:300]}"
        for service, lines in logged.items()
        for line in lines
        if any(s in line for s in secrets) or E164.search(line) or EMAIL.search(line)
    ]


def test_no_service_logs_personal_data_over_whole_calls_and_probes(cluster: Cluster) -> None:
    assert cluster.log_dir is not None
    sizes = _log_sizes(cluster.log_dir)

    secrets = _run_calls(cluster) | _probe_rest(cluster)

    logged = _logged_since(cluster.log_dir, sizes)
    assert set(logged) >= {"gateway", "dialer", "speech", "brain", "store"}
    assert sum(len(lines) for lines in logged.values()) > 20  # the scan saw real output
    leaks = _leaks(logged, secrets)
    assert leaks == [], "\n".join(leaks[:20])


def test_no_service_logs_personal_data_over_a_voice_call(cluster: Cluster) -> None:
    assert cluster.log_dir is not None
    sizes = _log_sizes(cluster.log_dir)
    scenario = Scenario.model_validate(
        {
            "phone_number": unique_number(),
            "request": {
                "claim": [
                    {
                        "name": "incident_description",
                        "type": "text",
                        "description": "what happened",
                    },
                    {"name": "policyholder_email", "type": "email", "description": "your e-mail"},
                ]
            },
            "customer": [
                "A pipe burst under the sink and flooded the kitchen floor.",
                "john dot smith at example dot com",
                "No, that's all, thank you. Goodbye!",
            ],
        }
    )
    callee = VoiceCallee(
        scenario,
        cluster.gateway_url,
        cluster.api_key,
        cluster.ports.grpc_address("dialer"),
        cluster.ports.grpc_address("speech"),
        sample_rate=8000,
        speed=5.0,
        transcribe_bot=False,
    )

    result = asyncio.run(callee.run(limit_sec=120))

    secrets = _personal_data(result.call) | {line.say for line in scenario.customer}
    assert len(secrets) > 3  # the number, the lines, what was understood
    leaks = _leaks(_logged_since(cluster.log_dir, sizes), secrets)
    assert leaks == [], "\n".join(leaks[:20])


def test_the_database_and_the_logs_of_a_running_cluster_are_the_owners_alone(
    cluster: Cluster,
) -> None:
    assert cluster.log_dir is not None
    database = cluster.data_dir / "switchboard.db"
    private = [database, *database.parent.glob("switchboard.db-*"), *cluster.log_dir.glob("*.log")]
    assert len(private) >= 6
    modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in private}
    assert set(modes.values()) == {0o600}, modes
    assert stat.S_IMODE(cluster.data_dir.stat().st_mode) == 0o700
