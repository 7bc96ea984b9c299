"""The chart's wiring of the optional backends (Redis, PostgreSQL, Cosmos DB, recording blob
storage) and of each dialer pod's lease name: every secret from a Secret to exactly the pods
that read it, and the settings each pod then loads are the ones its backend needs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import helm_python as helm
import pytest
import yaml
from pydantic import BaseModel, SecretStr

from switchboard.config import Settings, load_settings
from switchboard_store.cosmos_db import CosmosOptions
from tests.deploy.chart import CHART, RELEASE, SERVICES, Rendered, production_values, render
from tests.deploy.settings_paths import names_a_setting

POD_NAME = "sb-switchboard-dialer-7d9f-abcde"
POD_IP = "10.244.1.17"
POD_FIELDS = {"metadata.name": POD_NAME, "status.podIP": POD_IP}

# Which pods read each backend secret (the store's also go to the migration Job).
READERS = {
    "redisPassword": ("SWITCHBOARD__REDIS__PASSWORD", {"store", "brain"}),
    "postgresPassword": ("SWITCHBOARD__STORE__POSTGRES_PASSWORD", {"store"}),
    "cosmosKey": ("SWITCHBOARD__STORE__COSMOS__KEY", {"store"}),
    "recordingAccountKey": ("SWITCHBOARD__RECORDING__AZURE_ACCOUNT_KEY", {"dialer", "gateway"}),
}

COSMOS = {
    "config": {
        "store": {
            "backend": "cosmos",
            "cosmos": {"endpoint": "https://sb.documents.azure.com:443/", "database": "calls"},
        }
    },
    "backendSecrets": {"cosmosKey": {"name": "sb-cosmos", "key": "primary"}},
    "store": {"replicas": 3},
}


def _container(rendered: Rendered, service: str) -> dict[str, Any]:
    [container] = rendered.deployment(service)["spec"]["template"]["spec"]["containers"]
    return container


def _secret_refs(container: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {
        e["name"]: e["valueFrom"]["secretKeyRef"]
        for e in container["env"]
        if "secretKeyRef" in e.get("valueFrom", {})
    }


def settings_in_pod(rendered: Rendered, service: str, tmp_path: Path) -> Settings:
    """What the service loads in its pod: the ConfigMap plus its environment, each Secret
    reference standing for a value (``secret:<name>/<key>``) and the pod's own fields."""
    path = tmp_path / f"{service}.yaml"
    path.write_text(yaml.safe_dump(rendered.config()), encoding="utf-8")
    environ: dict[str, str] = {}
    for env in _container(rendered, service)["env"]:
        source = env.get("valueFrom", {})
        if "secretKeyRef" in source:
            ref = source["secretKeyRef"]
            value = f"secret:{ref['name']}/{ref['key']}"
            # The gateway's API keys Secret holds a YAML list.
            environ[env["name"]] = f"[{value}]" if env["name"].endswith("API_KEYS") else value
        elif "fieldRef" in source:
            environ[env["name"]] = POD_FIELDS[source["fieldRef"]["fieldPath"]]
        else:
            # Kubernetes expands $(VAR) from the variables defined before this one.
            environ[env["name"]] = re.sub(
                r"\$\((\w+)\)", lambda m: environ.get(m[1], m[0]), env["value"]
            )
    return load_settings(path, environ)


@pytest.mark.parametrize("entry", sorted(READERS))
def test_each_backend_secret_reaches_only_the_pods_that_read_it(entry: str) -> None:
    variable, readers = READERS[entry]
    assert names_a_setting(variable)
    rendered = render({"backendSecrets": {entry: {"name": "sb-backend", "key": "k"}}})
    holders = {s for s in SERVICES if variable in _secret_refs(_container(rendered, s))}
    assert holders == readers
    assert {"name": "sb-backend", "key": "k"} in [
        _secret_refs(_container(rendered, s))[variable] for s in readers
    ]


def test_no_backend_secret_is_given_when_no_secret_is_named() -> None:
    rendered = render(None)
    variables = {variable for variable, _ in READERS.values()}
    for workload, _, container in rendered.containers():
        assert variables.isdisjoint(e["name"] for e in container["env"]), workload


def test_production_runs_redis_with_its_access_key_from_a_secret(tmp_path: Path) -> None:
    rendered = render(production_values())
    for service in ("store", "brain"):
        redis = settings_in_pod(rendered, service, tmp_path).redis
        assert redis.enabled and redis.url.startswith("rediss://")
        assert redis.password == "secret:switchboard-redis/access-key"
    assert settings_in_pod(rendered, "dialer", tmp_path).redis.password == ""
    assert "password" not in rendered.config()["redis"]


def test_production_runs_the_store_on_postgres_replicated_and_migrated(tmp_path: Path) -> None:
    rendered = render(production_values())
    store = settings_in_pod(rendered, "store", tmp_path).store
    assert store.backend == "postgres"
    assert store.postgres_password == "secret:switchboard-postgres/password"
    deployment = rendered.deployment("store")["spec"]
    assert deployment["strategy"]["type"] == "RollingUpdate"
    assert rendered.get("HorizontalPodAutoscaler", f"{RELEASE}-switchboard-store")
    assert rendered.of_kind("PersistentVolumeClaim") == []
    # The migration Job reaches the same database with the same password.
    [job] = rendered.of_kind("Job")
    [migrate] = job["spec"]["template"]["spec"]["containers"]
    assert _secret_refs(migrate)["SWITCHBOARD__STORE__POSTGRES_PASSWORD"] == {
        "name": "switchboard-postgres",
        "key": "password",
    }


def test_production_stores_recordings_in_azure_blob_storage(tmp_path: Path) -> None:
    rendered = render(production_values())
    for service in ("dialer", "gateway"):
        recording = settings_in_pod(rendered, service, tmp_path).recording
        assert recording.provider == "azure"
        assert recording.azure_account_url.startswith("https://")
        assert recording.azure_account_key == "secret:switchboard-storage/account-key"
    features = Settings.model_validate(rendered.config()).features
    assert features.recording_retention_days == 90


def test_a_cosmos_store_gets_its_endpoint_and_key_and_scales_out(tmp_path: Path) -> None:
    rendered = render(COSMOS)
    options = CosmosOptions.from_settings(settings_in_pod(rendered, "store", tmp_path).store)
    assert options.endpoint == "https://sb.documents.azure.com:443/"
    assert (options.key, options.database) == ("secret:sb-cosmos/primary", "calls")
    assert rendered.deployment("store")["spec"]["strategy"]["type"] == "RollingUpdate"


def test_the_sqlite_store_is_still_stopped_before_its_successor_starts() -> None:
    assert render(None).deployment("store")["spec"]["strategy"]["type"] == "Recreate"


@pytest.mark.parametrize("name", ["defaults", "production"])
def test_every_dialer_pod_leases_its_calls_under_its_pod_name(name: str, tmp_path: Path) -> None:
    rendered = render(production_values() if name == "production" else None)
    assert "replica_id" not in rendered.config()["dialer"]
    dialer = settings_in_pod(rendered, "dialer", tmp_path).dialer
    assert dialer.replica_id == POD_NAME
    # Gateways reach the pod itself (its calls' leases and carrier URLs say where).
    assert dialer.advertise_address == f"{POD_IP}:50051"
    for service in SERVICES:
        if service != "dialer":
            names = {e["name"] for e in _container(rendered, service)["env"]}
            assert "SWITCHBOARD__DIALER__REPLICA_ID" not in names, service


WRONG_BACKEND_VALUES: dict[str, dict[str, Any]] = {
    "an unknown store backend": {"config": {"store": {"backend": "mysql"}}},
    "a cosmos store without its key Secret": {
        "config": {"store": {"backend": "cosmos", "cosmos": {"endpoint": "https://a/"}}}
    },
    "a cosmos store without its endpoint": {
        "config": {"store": {"backend": "cosmos"}},
        "backendSecrets": {"cosmosKey": {"name": "c", "key": "k"}},
    },
    "a volume for a postgres store": {
        "config": {"store": {"backend": "postgres"}},
        "store": {"persistence": {"enabled": True, "size": "1Gi"}},
    },
    "a password in the PostgreSQL DSN": {
        "config": {"store": {"postgres_dsn": "postgresql://u:pw@db:5432/sb"}}
    },
    "a password in the Redis URL": {"config": {"redis": {"url": "redis://:pw@redis:6379/0"}}},
    "a Redis URL that is not one": {"config": {"redis": {"url": "http://redis:6379"}}},
    "recordings on pod-local disks": {"config": {"features": {"recording_enabled": True}}},
    "azure recordings without an account": {"config": {"recording": {"provider": "azure"}}},
    "one replica name for every dialer pod": {"config": {"dialer": {"replica_id": "d1"}}},
    "a misspelt config section": {"config": {"recordings": {"provider": "azure"}}},
    "no speech language": {"config": {"speech": {"languages": []}}},
    "a literal backend secret value": {
        "backendSecrets": {"redisPassword": {"name": "r", "key": "k", "value": "pw"}}
    },
}


@pytest.mark.parametrize("case", sorted(WRONG_BACKEND_VALUES))
def test_a_wrong_backend_value_is_refused_at_install_time(case: str) -> None:
    with pytest.raises(helm.HelmValuesError, match="schema"):
        render(WRONG_BACKEND_VALUES[case])


def _secret_settings(model: type[BaseModel], path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every setting whose name says it holds a secret (``…_password``, ``…_key`` …)."""
    found: list[tuple[str, ...]] = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            found += _secret_settings(annotation, (*path, name))
        elif annotation in (str, SecretStr, list[str]) and name.rsplit("_", 1)[-1] in (
            "password",
            "key",
            "keys",
            "secret",
            "token",
        ):
            found.append((*path, name))
    return found


SECRET_SETTINGS = _secret_settings(Settings)


def test_the_config_knows_secrets_in_every_backend() -> None:
    assert {
        ("redis", "password"),
        ("store", "postgres_password"),
        ("store", "cosmos", "key"),
        ("recording", "azure_account_key"),
    } <= set(SECRET_SETTINGS)


@pytest.mark.parametrize("path", SECRET_SETTINGS, ids=".".join)
def test_the_schema_refuses_every_secret_setting_in_the_config(path: tuple[str, ...]) -> None:
    value: Any = "s3cr3t"
    for part in reversed(path):
        value = {part: value}
    with pytest.raises(helm.HelmValuesError, match="schema"):
        render({"config": value})


def test_the_schema_knows_every_config_section() -> None:
    with helm.Chart.load(CHART) as chart:
        schema = chart.schema
    assert schema is not None
    sections = schema["properties"]["config"]["propertyNames"]["enum"]
    assert set(sections) == set(Settings.model_fields)
