"""The Bicep templates for Azure Container Apps: every file parses, and the resources and
parameters that matter are there. No Bicep compiler or Azure CLI runs here."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from pycep import BicepParser

from switchboard.config import Features, GatewaySettings, ServiceAddresses, StoreSettings
from tests.deploy.bicep import BICEP, REPO, body, files, parsed, resources, walk
from tests.deploy.settings_paths import names_a_setting

SERVICES = ("gateway", "dialer", "speech", "brain", "store")
SECRET_NAME = re.compile(r"key|secret|password|token|connection", re.IGNORECASE)


def _types() -> set[str]:
    return {resource["type"] for _, _, resource in resources() if not resource["existing"]}


def _of_type(kind: str) -> list[dict[str, Any]]:
    return [body(r) for _, _, r in resources() if r["type"] == kind and not r["existing"]]


def _apps() -> dict[str, dict[str, Any]]:
    """The params of each service's app module call, by service."""
    modules = parsed(BICEP / "modules" / "apps.bicep")["modules"]
    assert all(m["detail"]["path"] == "app.bicep" for m in modules.values())
    return {name: module["config"]["params"] for name, module in modules.items()}


def _port(service: str) -> int:
    if service == "gateway":
        return GatewaySettings().port
    return int(str(getattr(ServiceAddresses(), service)).rsplit(":", 1)[1])


@pytest.mark.parametrize("path", files(), ids=lambda p: str(p.relative_to(BICEP)))
def test_every_bicep_file_parses(path: Path) -> None:
    tree = parsed(path)
    assert tree.get("resources") or tree.get("modules")


def test_the_parser_refuses_a_syntax_error() -> None:
    with pytest.raises(Exception):  # noqa: B017 (pycep raises lark's or its own ValueError)
        BicepParser().parse(text="resource app 'Microsoft.App/containerApps@2024-03-01' = {\n")


def test_every_local_module_exists() -> None:
    for path in files():
        for module in (parsed(path).get("modules") or {}).values():
            assert (path.parent / module["detail"]["path"]).is_file(), module["detail"]["path"]


def test_the_resources_the_providers_use_are_all_deployed() -> None:
    expected = {
        "Microsoft.App/managedEnvironments",
        "Microsoft.App/containerApps",
        "Microsoft.ManagedIdentity/userAssignedIdentities",
        "Microsoft.ContainerRegistry/registries",
        "Microsoft.KeyVault/vaults",
        "Microsoft.Communication/communicationServices",
        "Microsoft.EventGrid/systemTopics",
        "Microsoft.EventGrid/systemTopics/eventSubscriptions",
        "Microsoft.CognitiveServices/accounts",
        "Microsoft.CognitiveServices/accounts/deployments",
        "Microsoft.Search/searchServices",
        "Microsoft.DocumentDB/databaseAccounts",
        "Microsoft.Cache/redis",
        "Microsoft.AppConfiguration/configurationStores",
        "Microsoft.OperationalInsights/workspaces",
        "Microsoft.Insights/components",
        "Microsoft.Authorization/roleAssignments",
    }
    assert expected <= _types()
    kinds = {b["kind"] for b in _of_type("Microsoft.CognitiveServices/accounts")}
    assert kinds == {"SpeechServices", "OpenAI"}


def test_incoming_calls_are_subscribed_on_the_communication_services_topic() -> None:
    [topic] = _of_type("Microsoft.EventGrid/systemTopics")
    assert topic["properties"]["topicType"] == "Microsoft.Communication.CommunicationServices"
    [subscription] = _of_type("Microsoft.EventGrid/systemTopics/eventSubscriptions")
    event_filter = subscription["properties"]["filter"]
    assert event_filter["includedEventTypes"] == ["Microsoft.Communication.IncomingCall"]


def test_no_secret_has_a_default_value() -> None:
    checked = 0
    for path in files():
        for name, param in (parsed(path).get("parameters") or {}).items():
            secure = any(d["type"] == "secure" for d in param["decorators"])
            # (an array of Key Vault references, such as app.bicep's `secrets`, is no secret)
            if secure or (param["type"] == "string" and SECRET_NAME.search(name)):
                checked += 1
                assert secure, f"{path.name}: {name} looks secret but is not @secure()"
                assert param["default"] is None, f"{path.name}: {name} has a default"
    assert checked >= 2


def test_the_image_tag_parameter_is_pinned() -> None:
    tag = parsed(BICEP / "main.bicep")["parameters"]["imageTag"]["default"]
    assert isinstance(tag, str) and re.fullmatch(r"\d+\.\d+\.\d+", tag)


def test_every_app_has_a_scale_rule_and_health_probes() -> None:
    apps = _apps()
    assert set(apps) == set(SERVICES)
    for service, params in apps.items():
        assert params["scaleRules"], f"{service} has no scale rule"
        probe_types = {probe["type"] for probe in params["probes"]}
        assert {"Liveness", "Readiness", "Startup"} <= probe_types, service
        for probe in params["probes"]:
            check = probe.get("httpGet") or probe.get("tcpSocket")
            assert check["port"] == _port(service), f"{service}: probe on the wrong port"


def test_the_app_module_passes_scale_rules_and_probes_to_the_container_app() -> None:
    [app] = _of_type("Microsoft.App/containerApps")
    template = app["properties"]["template"]
    assert template["scale"]["rules"] == "scaleRules"
    [container] = template["containers"]
    assert container["probes"] == "probes"


def test_only_the_gateway_has_external_ingress_and_ports_match_the_config() -> None:
    for service, params in _apps().items():
        assert params["external"] is (service == "gateway"), service
        assert params["port"] == _port(service), service


def test_speech_and_brain_scale_on_cpu_and_the_gateway_on_requests() -> None:
    apps = _apps()
    for service in ("speech", "brain", "dialer"):
        assert [r["custom"]["type"] for r in apps[service]["scaleRules"]] == ["cpu"]
    assert "http" in apps["gateway"]["scaleRules"][0]
    # One SQLite writer; on Cosmos DB the store scales out.
    for bound in ("minReplicas", "maxReplicas"):
        choice = apps["store"][bound]["operator"]["operands"]
        assert choice["condition"] == "sharedStore" and choice["false_value"] == 1
        assert choice["true_value"] >= 2
    apps_variables = parsed(BICEP / "modules" / "apps.bicep")["variables"]
    shared = apps_variables["sharedStore"]["value"]["operator"]
    assert shared["type"] == "not_equals"
    assert shared["operands"] == {"operand_1": "storeBackend", "operand_2": "sqlite"}


def test_the_dialer_waits_out_the_call_drain_time() -> None:
    grace = _apps()["dialer"]["terminationGracePeriodSeconds"]
    assert "callDrainSeconds" in str(grace)


def test_services_authenticate_with_the_identity_where_azure_allows() -> None:
    openai = next(
        b for b in _of_type("Microsoft.CognitiveServices/accounts") if b["kind"] == "OpenAI"
    )
    assert openai["properties"]["disableLocalAuth"] is True
    [flags] = _of_type("Microsoft.AppConfiguration/configurationStores")
    assert flags["properties"]["disableLocalAuth"] is True
    [storage] = _of_type("Microsoft.Storage/storageAccounts")
    assert storage["properties"]["allowSharedKeyAccess"] is False
    assert storage["properties"]["allowBlobPublicAccess"] is False
    # The store's Cosmos DB backend and redis-py take a key (from Key Vault): keys stay on.
    [cosmos] = _of_type("Microsoft.DocumentDB/databaseAccounts")
    assert cosmos["properties"]["disableLocalAuth"] is False
    [redis] = _of_type("Microsoft.Cache/redis")
    assert redis["properties"]["disableAccessKeyAuthentication"] is False
    assert redis["properties"]["enableNonSslPort"] is False
    [registry] = _of_type("Microsoft.ContainerRegistry/registries")
    assert registry["properties"]["adminUserEnabled"] is False
    assert len(_of_type("Microsoft.Authorization/roleAssignments")) >= 6
    assert _of_type("Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments")
    assert _of_type("Microsoft.Cache/redis/accessPolicyAssignments")


def _entries(node: Any, variables: dict[str, Any]) -> list[dict[str, Any]]:
    """The objects of an array expression: literal items, ``concat`` and shared variables."""
    if isinstance(node, str) and node in variables:
        return _entries(variables[node]["value"], variables)
    if isinstance(node, list):
        return [item for item in node if isinstance(item, dict)]
    if isinstance(node, dict) and node.get("function", {}).get("type") == "concat":
        parts = node["function"]["parameters"].values()
        return [entry for part in parts for entry in _entries(part, variables)]
    raise AssertionError(f"cannot read {node!r}")


def test_remaining_secrets_come_from_key_vault_by_reference() -> None:
    [vault] = _of_type("Microsoft.KeyVault/vaults")
    assert vault["properties"]["enableRbacAuthorization"] is True
    stored = {b["name"] for b in _of_type("Microsoft.KeyVault/vaults/secrets")}
    variables = parsed(BICEP / "modules" / "apps.bicep")["variables"]
    referenced = set()
    for service, params in _apps().items():
        secrets = _entries(params["secrets"], variables)
        for secret in secrets:
            assert secret["keyVaultUrl"].endswith(f"secrets/{secret['name']}"), service
            assert secret["identity"] == "identityId"
            referenced.add(secret["name"])
        names = {s["name"] for s in secrets}
        for variable in _entries(params["env"], variables):
            if SECRET_NAME.search(variable["name"]):
                assert variable.get("secretRef") in names, f"{service}: {variable['name']}"
                assert "value" not in variable
    assert referenced == stored


def test_every_app_requires_the_internal_token_from_key_vault() -> None:
    variables = parsed(BICEP / "modules" / "apps.bicep")["variables"]
    apps = _apps()
    assert len(apps) == len(SERVICES)
    for service, params in apps.items():
        env = {e["name"]: e for e in _entries(params["env"], variables)}
        assert env["SWITCHBOARD__INTERNAL_AUTH__MODE"]["value"] == "token", service
        token = env["SWITCHBOARD__INTERNAL_AUTH__TOKEN"]
        assert token["secretRef"] == "internal-auth-token" and "value" not in token, service
    stored = {b["name"] for b in _of_type("Microsoft.KeyVault/vaults/secrets")}
    assert "internal-auth-token" in stored
    token_param = parsed(BICEP / "main.bicep")["parameters"]["internalAuthToken"]
    assert any(d["type"] == "secure" for d in token_param["decorators"])


def test_every_switchboard_variable_names_a_real_setting() -> None:
    variables = {
        node["name"]
        for path in files()
        for node in walk(parsed(path))
        if isinstance(node, dict) and str(node.get("name", "")).startswith("SWITCHBOARD__")
    }
    assert len(variables) > 10
    unknown = sorted(v for v in variables if not names_a_setting(v))
    assert unknown == [], "the services would refuse these at startup"


def test_app_configuration_starts_with_every_feature_flag() -> None:
    flags = parsed(BICEP / "main.bicep")["variables"]["featureFlags"]["value"]
    assert set(flags) == set(Features.model_fields)
    defaults = Features().model_dump()
    assert {k: float(v) for k, v in flags.items() if not isinstance(v, bool)} == {
        k: float(v) for k, v in defaults.items() if not isinstance(v, bool)
    }


def test_make_deploy_without_the_azure_cli_says_so(tmp_path: Path) -> None:
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    # A PATH holding only make: there is no `az` on it, whatever this machine has.
    (tmp_path / "make").symlink_to(make)
    result = subprocess.run(
        ["make", "--no-print-directory", "deploy"],
        cwd=REPO,
        env={"PATH": str(tmp_path), "HOME": os.environ.get("HOME", "/tmp")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "Azure CLI" in result.stderr


def _env(service: str) -> dict[str, dict[str, Any]]:
    variables = parsed(BICEP / "modules" / "apps.bicep")["variables"]
    return {e["name"]: e for e in _entries(_apps()[service]["env"], variables)}


def test_the_store_and_brain_use_azure_cache_for_redis_with_its_key_from_key_vault() -> None:
    for service in SERVICES:
        env = _env(service)
        uses = service in ("store", "brain")
        assert ("SWITCHBOARD__REDIS__ENABLED" in env) is uses, service
        if uses:
            assert env["SWITCHBOARD__REDIS__ENABLED"]["value"] == "true"
            # TLS only: the cache has no non-TLS port.
            assert env["SWITCHBOARD__REDIS__URL"]["value"].startswith("rediss://")
            assert ":6380/" in env["SWITCHBOARD__REDIS__URL"]["value"]
            assert env["SWITCHBOARD__REDIS__PASSWORD"] == {
                "name": "SWITCHBOARD__REDIS__PASSWORD",
                "secretRef": "redis-key",
            }


def test_the_store_runs_on_the_chosen_backend_with_the_cosmos_key_from_key_vault() -> None:
    env = _env("store")
    assert env["SWITCHBOARD__STORE__BACKEND"]["value"] == "storeBackend"
    assert env["SWITCHBOARD__STORE__COSMOS__KEY"]["secretRef"] == "cosmos-key"
    assert env["SWITCHBOARD__STORE__COSMOS__ENDPOINT"]["value"] == "cosmosEndpoint"
    assert env["SWITCHBOARD__STORE__MIGRATE_ON_START"]["value"] == "true"
    backend = parsed(BICEP / "main.bicep")["parameters"]["storeBackend"]
    [allowed] = [d["argument"] for d in backend["decorators"] if d["type"] == "allowed"]
    assert set(allowed) <= set(StoreSettings.model_fields["backend"].annotation.__args__)
    # The store creates its containers with their partition keys: none is declared here.
    assert _of_type("Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers") == []


def test_recordings_go_to_blob_storage_the_identity_may_write() -> None:
    for service in ("dialer", "gateway"):
        env = _env(service)
        assert env["SWITCHBOARD__RECORDING__PROVIDER"]["value"] == "azure", service
        assert env["SWITCHBOARD__RECORDING__AZURE_ACCOUNT_URL"]["value"] == "blobEndpoint"
        assert "SWITCHBOARD__RECORDING__AZURE_ACCOUNT_KEY" not in env  # the identity signs
    [container] = _of_type("Microsoft.Storage/storageAccounts/blobServices/containers")
    assert container["properties"]["publicAccess"] == "None"
    data = parsed(BICEP / "modules" / "data.bicep")
    role = data["variables"]["roles"]["value"]["storageBlobDataContributor"]
    assert role == "ba92f5b4-2d11-453d-a403-e96b0029c9fe"


def test_each_dialer_replica_advertises_its_own_ip_with_the_grpc_port() -> None:
    env = _env("dialer")
    # ':PORT': the dialer fills in its own IP (Container Apps has no downward API).
    advertised = env["SWITCHBOARD__DIALER__ADVERTISE_ADDRESS"]["value"]
    assert advertised == f":{_port('dialer')}"
    assert env["SWITCHBOARD_LISTEN_ADDRESS"]["value"].endswith(advertised)
    for service in ("gateway", "speech", "brain", "store"):
        assert "SWITCHBOARD__DIALER__ADVERTISE_ADDRESS" not in _env(service), service
