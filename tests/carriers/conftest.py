"""The five services with ``dialer.telephony: twilio`` and ``dialer.sms: twilio``, the
SDK pointed at a fake Twilio on loopback, the gateway as the public URL."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from switchboard_cli.launcher import Cluster, ClusterPorts
from switchboard_testing.fake_twilio import FakeTwilio
from tests.cluster.harness import FIXED_NOW

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
BOT_NUMBER = "+14155550100"


@dataclass
class TwilioRig:
    cluster: Cluster
    twilio: FakeTwilio
    api: httpx.Client

    def logs(self) -> str:
        return f"service logs in {self.cluster.log_dir}; REST seen: {len(self.twilio.requests)}"


@pytest.fixture(scope="session")
def twilio_rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwilioRig]:
    root = tmp_path_factory.mktemp("twilio-cluster")
    token = secrets.token_hex(16)
    twilio = FakeTwilio(ACCOUNT_SID, token)
    twilio.start()
    ports = ClusterPorts.free()
    cluster = Cluster(
        ports=ports,
        api_key=secrets.token_urlsafe(16),
        data_dir=root / "data",
        log_dir=root / "logs",
        env={
            "SWITCHBOARD_CONFIG": str(root / "switchboard.yaml"),  # no file: pure defaults
            "SWITCHBOARD__BRAIN__FIXED_NOW": FIXED_NOW,
            "SWITCHBOARD__LOGGING__LEVEL": "DEBUG",
            "SWITCHBOARD__DIALER__TELEPHONY": "twilio",
            "SWITCHBOARD__DIALER__SMS": "twilio",
            "SWITCHBOARD__DIALER__RING_TIMEOUT_SEC": "20",
            "SWITCHBOARD__DIALER__TWILIO__ACCOUNT_SID": ACCOUNT_SID,
            "SWITCHBOARD__DIALER__TWILIO__FROM_NUMBER": BOT_NUMBER,
            "SWITCHBOARD__DIALER__TWILIO__PUBLIC_URL": f"http://127.0.0.1:{ports.gateway}",
            "SWITCHBOARD__DIALER__TWILIO__API_BASE_URL": twilio.base_url,
            "TWILIO_AUTH_TOKEN": token,
        },
    )
    cluster.start()
    headers = {"Authorization": f"Bearer {cluster.api_key}"}
    try:
        with httpx.Client(base_url=cluster.gateway_url, headers=headers, timeout=10) as api:
            yield TwilioRig(cluster, twilio, api)
    finally:
        cluster.stop()
        twilio.stop()
