"""The services on this machine: the local API key, and running or freshly started services."""

from __future__ import annotations

import contextlib
import os
import secrets
import sys
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from switchboard.config import ConfigError, Settings
from switchboard.grpc_targets import listen_address
from switchboard.private_files import PRIVATE_FILE_MODE, make_private, private_dir
from switchboard_cli.launcher import Cluster, ClusterPorts, http_ready

API_KEY_ENV = "SWITCHBOARD_API_KEY"
DATA_DIR = Path("var")
API_KEY_FILE = DATA_DIR / "api-key"


@dataclass(frozen=True)
class Endpoints:
    """Where the services are, and the API key to use."""

    gateway_url: str
    api_key: str
    dialer: str
    speech: str
    store: str
    started_here: bool = False


def out(text: str = "") -> None:
    """What a command produces (its report, its JSON): stdout."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def note(text: str = "") -> None:
    """Progress and notices: stderr, so ``--json`` output stays pipeable to ``jq``."""
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def ports_from(settings: Settings) -> ClusterPorts:
    def port(target: str) -> int:
        address = listen_address(target)
        if address is None:
            raise ConfigError(f"services: {target} is not one host:port a local run can use")
        return int(address.rsplit(":", 1)[1])

    s = settings.services
    return ClusterPorts(
        store=port(s.store),
        brain=port(s.brain),
        speech=port(s.speech),
        dialer=port(s.dialer),
        gateway=settings.gateway.port,
    )


def local_api_key() -> str:
    """SWITCHBOARD_API_KEY when set; else the key saved by an earlier local run; else a new one.

    The key is saved in var/api-key (mode 0600), so ``make run`` and
    ``switchboard simulate`` agree on it and printed report links keep working.
    """
    if key := os.environ.get(API_KEY_ENV):
        return key
    with contextlib.suppress(OSError):
        if saved := API_KEY_FILE.read_text().strip():
            make_private(DATA_DIR, API_KEY_FILE)  # an older run may have left them readable
            return saved
    key = secrets.token_urlsafe(24)
    private_dir(DATA_DIR)
    API_KEY_FILE.touch(mode=PRIVATE_FILE_MODE)
    API_KEY_FILE.chmod(PRIVATE_FILE_MODE)  # touch keeps the mode of a file already there
    API_KEY_FILE.write_text(key)
    return key


def known_api_key(settings: Settings) -> str:
    if key := os.environ.get(API_KEY_ENV):
        return key
    if settings.gateway.api_keys:
        return settings.gateway.api_keys[0]
    with contextlib.suppress(OSError):
        return API_KEY_FILE.read_text().strip()
    return ""


@contextlib.contextmanager
def services_for(
    settings: Settings, env: Mapping[str, str] | None = None, ports: ClusterPorts | None = None
) -> Iterator[Endpoints]:
    """The running services, else ones started now on a fresh temporary database, so a
    simulation never resumes an earlier one (its report is saved as a page under
    var/reports). ``env`` is added to started services' environment only. With
    ``ports``, services are always started, on those ports (configured by ``env``)."""
    url = f"http://{settings.gateway.host}:{settings.gateway.port}"
    if ports is None and http_ready(url):
        s = settings.services
        yield Endpoints(url, known_api_key(settings), s.dialer, s.speech, s.store)
        return
    key = local_api_key()
    scratch = tempfile.TemporaryDirectory(prefix="switchboard-simulate-")
    cluster = Cluster(
        ports=ports or ports_from(settings),
        api_key=key,
        data_dir=Path(scratch.name),
        log_dir=DATA_DIR / "logs",
        env=dict(env or {}),
    )
    why = f"No services running at {url}" if ports is None else "Services of its own"
    note(f"{why}; starting them (logs in {DATA_DIR / 'logs'}) ...")
    try:
        cluster.start()
    except BaseException:
        scratch.cleanup()
        raise
    try:
        ports = cluster.ports
        yield Endpoints(
            cluster.gateway_url,
            key,
            ports.grpc_address("dialer"),
            ports.grpc_address("speech"),
            ports.grpc_address("store"),
            started_here=True,
        )
    finally:
        cluster.stop()
        scratch.cleanup()
