"""The Helm chart: rendered with the default and the production-like values, linted
strictly, validated against the Kubernetes 1.30 schemas, and checked for what matters."""

from __future__ import annotations

from typing import Any

import helm_python as helm
import kubernetes_validate
import pytest

from switchboard.config import Features, GatewaySettings, ServiceAddresses, Settings
from switchboard.server import SHUTDOWN_GRACE_SEC
from switchboard_dialer.registry import DRAIN_OVERRUN_SEC
from tests.deploy.chart import (
    CHART,
    KUBE_VERSION,
    RELEASE,
    SERVICES,
    Rendered,
    production_values,
    render,
)
from tests.deploy.settings_paths import names_a_setting

VALUE_SETS = {"defaults": None, "production": production_values()}


@pytest.fixture(params=sorted(VALUE_SETS), scope="module")
def rendered(request: pytest.FixtureRequest) -> Rendered:
    return render(VALUE_SETS[request.param])


def _default_port(service: str) -> int:
    if service == "gateway":
        return GatewaySettings().port
    address: str = getattr(ServiceAddresses(), service)
    return int(address.rsplit(":", 1)[1])


@pytest.mark.parametrize("name", sorted(VALUE_SETS))
def test_chart_lints_strictly_for_kubernetes_1_30(name: str) -> None:
    report = helm.lint(CHART, VALUE_SETS[name], strict=True, kube_version=f"v{KUBE_VERSION}")
    problems = [m for m in report["messages"] if m["severity"] >= 2]
    assert report["errors"] == [] and problems == []


def test_every_manifest_is_valid_for_the_kubernetes_1_30_schemas(rendered: Rendered) -> None:
    assert len(rendered.documents) > 20
    for doc in rendered.documents:
        kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)


def test_each_service_has_a_deployment_service_and_disruption_budget(rendered: Rendered) -> None:
    for service in SERVICES:
        name = f"{RELEASE}-switchboard-{service}"
        rendered.get("Deployment", name)
        rendered.get("Service", name)
        rendered.get("PodDisruptionBudget", name)


def test_speech_brain_and_dialer_autoscale_on_cpu(rendered: Rendered) -> None:
    for service in ("speech", "brain", "dialer"):
        hpa = rendered.get("HorizontalPodAutoscaler", f"{RELEASE}-switchboard-{service}")
        assert hpa["spec"]["scaleTargetRef"]["name"] == f"{RELEASE}-switchboard-{service}"
        [metric] = hpa["spec"]["metrics"]
        assert metric["resource"]["name"] == "cpu"
        # The HPA owns the replica count: a fixed one would fight it on every upgrade.
        assert "replicas" not in rendered.deployment(service)["spec"]


def test_every_container_has_probes_resources_and_a_non_root_user(rendered: Rendered) -> None:
    containers = list(rendered.containers())
    assert len(containers) >= len(SERVICES)
    for workload, pod, container in containers:
        security = container["securityContext"]
        assert security["runAsNonRoot"] is True, workload
        assert security["runAsUser"] > 0 and pod["securityContext"]["runAsUser"] > 0
        assert security["readOnlyRootFilesystem"] is True, workload
        assert security["allowPrivilegeEscalation"] is False, workload
        assert security["capabilities"]["drop"] == ["ALL"], workload
        resources = container["resources"]
        assert {"cpu", "memory"} <= set(resources["requests"]) & set(resources["limits"])
        mounts = {m["mountPath"] for m in container["volumeMounts"]}
        assert "/tmp" in mounts, f"{workload}: nowhere writable for temporary files"
        if pod.get("restartPolicy") != "Never":  # a Job has no probes
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                assert probe in container, f"{workload} has no {probe}"


def test_grpc_services_are_probed_on_the_standard_health_service(rendered: Rendered) -> None:
    config = Settings.model_validate(rendered.config())
    for service in ("dialer", "speech", "brain", "store"):
        [container] = rendered.deployment(service)["spec"]["template"]["spec"]["containers"]
        # With mTLS the probes use the plaintext health-only port: they have no certificate.
        port = config.internal_auth.health_port or _default_port(service)
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            assert container[probe]["grpc"]["port"] == port
    [gateway] = rendered.deployment("gateway")["spec"]["template"]["spec"]["containers"]
    assert gateway["livenessProbe"]["httpGet"]["path"] == "/health/liveness"
    assert gateway["readinessProbe"]["httpGet"]["path"] == "/health/readiness"


def test_every_service_port_matches_its_config_default(rendered: Rendered) -> None:
    config = Settings.model_validate(rendered.config())
    for service in SERVICES:
        port = _default_port(service)
        [container] = rendered.deployment(service)["spec"]["template"]["spec"]["containers"]
        assert [p["containerPort"] for p in container["ports"]] == [port], service
        svc = rendered.get("Service", f"{RELEASE}-switchboard-{service}")
        assert [p["port"] for p in svc["spec"]["ports"]] == [port], service
        env = {e["name"]: e.get("value") for e in container["env"]}
        if service == "gateway":
            assert config.gateway.port == port and config.gateway.host == "0.0.0.0"
        else:
            pods = f"{RELEASE}-switchboard-{service}-pods"
            assert getattr(config.services, service) == f"{pods}:{port}"
            headless = rendered.get("Service", pods)["spec"]
            assert headless["clusterIP"] == "None" and headless["ports"][0]["port"] == port
            assert env["SWITCHBOARD_LISTEN_ADDRESS"] == f"0.0.0.0:{port}"


def test_the_configmap_is_a_config_the_services_accept(rendered: Rendered) -> None:
    config = Settings.model_validate(rendered.config())
    assert config.store.sqlite_path.startswith("/data/")
    for _, _, container in rendered.containers():
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env["SWITCHBOARD_CONFIG"] == "/etc/switchboard/switchboard.yaml"


@pytest.mark.parametrize("drain_sec", [None, 45, 900])
def test_dialer_grace_period_is_at_least_the_call_drain_time(drain_sec: int | None) -> None:
    values = {} if drain_sec is None else {"dialer": {"callDrainSeconds": drain_sec}}
    rendered = render(values)
    drain = Settings.model_validate(rendered.config()).dialer.drain_timeout_sec
    if drain_sec is not None:
        assert drain == drain_sec
    pod = rendered.deployment("dialer")["spec"]["template"]["spec"]
    # The calls still live at the drain time hear a goodbye; then the server stops.
    assert pod["terminationGracePeriodSeconds"] >= drain + DRAIN_OVERRUN_SEC + SHUTDOWN_GRACE_SEC


def test_production_dialer_drains_calls_longer_than_the_default() -> None:
    rendered = render(production_values())
    drain = Settings.model_validate(rendered.config()).dialer.drain_timeout_sec
    assert drain > Settings().dialer.drain_timeout_sec
    pod = rendered.deployment("dialer")["spec"]["template"]["spec"]
    assert pod["terminationGracePeriodSeconds"] >= drain + DRAIN_OVERRUN_SEC + SHUTDOWN_GRACE_SEC


def test_images_are_pinned_and_never_latest(rendered: Rendered) -> None:
    for workload, _, container in rendered.containers():
        image = container["image"]
        name, _, tag = image.rpartition(":")
        assert name.rsplit("/", 1)[-1].startswith("switchboard-"), workload
        assert tag and tag != "latest", image


def test_secrets_come_only_from_secret_references(rendered: Rendered) -> None:
    assert rendered.of_kind("Secret") == []
    secret_words = ("KEY", "PASSWORD", "SECRET", "TOKEN", "CONNECTION_STRING")
    for workload, _, container in rendered.containers():
        for env in container["env"]:
            if any(word in env["name"] for word in secret_words):
                assert "secretKeyRef" in env.get("valueFrom", {}), f"{workload}: {env['name']}"


def test_every_switchboard_variable_names_a_real_setting(rendered: Rendered) -> None:
    for workload, _, container in rendered.containers():
        for env in container["env"]:
            if env["name"].startswith("SWITCHBOARD__"):
                assert names_a_setting(env["name"]), f"{workload}: {env['name']}"


def test_a_misspelt_override_is_not_a_setting() -> None:
    assert names_a_setting("SWITCHBOARD__DIALER__SIP__PASSWORD")
    assert not names_a_setting("SWITCHBOARD__DIALER__SIP__PASWORD")
    assert not names_a_setting("SWITCHBOARD__GATEWAY__PORT__X")


def test_production_values_reference_the_gateway_api_keys_secret() -> None:
    [gateway] = render(production_values()).deployment("gateway")["spec"]["template"]["spec"][
        "containers"
    ]
    [keys] = [e for e in gateway["env"] if e["name"] == "SWITCHBOARD__GATEWAY__API_KEYS"]
    assert keys["valueFrom"]["secretKeyRef"] == {"name": "switchboard-gateway", "key": "api-keys"}


def test_only_the_gateway_is_reachable_from_outside(rendered: Rendered) -> None:
    policies = {p["metadata"]["name"]: p["spec"] for p in rendered.of_kind("NetworkPolicy")}
    deny = policies.pop(f"{RELEASE}-switchboard-default-deny")
    assert deny["podSelector"]["matchLabels"]["app.kubernetes.io/instance"] == RELEASE
    assert "ingress" not in deny
    allowed: dict[str, set[str]] = {}
    for spec in policies.values():
        component = spec["podSelector"]["matchLabels"]["app.kubernetes.io/component"]
        [rule] = spec["ingress"]
        peers = rule.get("from")
        if component == "gateway":
            continue
        assert peers, f"{component} is open to every pod"
        allowed[component] = {
            p["podSelector"]["matchLabels"]["app.kubernetes.io/component"] for p in peers
        }
    assert allowed["store"] == {"gateway", "dialer", "brain"}
    assert set(allowed) == {"dialer", "speech", "brain", "store"}


def test_the_ingress_sends_everything_to_the_gateway_with_websocket_timeouts(
    rendered: Rendered,
) -> None:
    [ingress] = rendered.of_kind("Ingress")
    [rule] = ingress["spec"]["rules"]
    [path] = rule["http"]["paths"]
    assert path["path"] == "/" and path["backend"]["service"]["name"].endswith("-gateway")
    annotations = ingress["metadata"]["annotations"]
    # A call's media WebSocket stays open for the whole call (max_call_duration_sec 1800).
    read_timeout = int(annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"])
    assert read_timeout >= Settings().dialer.max_call_duration_sec


def test_the_migration_runs_as_a_hook_before_install_and_upgrade() -> None:
    rendered = render({"migration": {"enabled": True}})
    job = rendered.get("Job", f"{RELEASE}-switchboard-migrate")
    hooks = set(job["metadata"]["annotations"]["helm.sh/hook"].split(","))
    assert hooks == {"pre-install", "pre-upgrade"}
    # Hooks run before the release's ConfigMap exists, so the Job's config is a hook too.
    config = rendered.get("ConfigMap", f"{RELEASE}-switchboard-migration-config")
    config_weight = int(config["metadata"]["annotations"]["helm.sh/hook-weight"])
    assert config_weight < int(job["metadata"]["annotations"]["helm.sh/hook-weight"])
    [container] = job["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["switchboard", "migrate"]
    for doc in (job, config):
        kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)


def test_a_sqlite_store_keeps_its_data_on_a_volume_claim() -> None:
    rendered = render({"store": {"persistence": {"enabled": True, "size": "5Gi"}}})
    claim = rendered.get("PersistentVolumeClaim", f"{RELEASE}-switchboard-store-data")
    volumes = rendered.deployment("store")["spec"]["template"]["spec"]["volumes"]
    [data] = [v for v in volumes if v["name"] == "data"]
    assert data["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
    assert rendered.deployment("store")["spec"]["strategy"]["type"] == "Recreate"


WRONG_VALUES: dict[str, dict[str, Any]] = {
    "an unpinned image": {"image": {"tag": "latest"}},
    "an empty image tag": {"image": {"tag": ""}},
    "a port that is text": {"dialer": {"port": "fifty"}},
    "an API key in the config file": {"config": {"gateway": {"api_keys": ["k"]}}},
    "a SIP password in the config file": {"config": {"dialer": {"sip": {"password": "p"}}}},
    "a secret without its key": {"brain": {"secretEnv": [{"name": "K", "secretName": "s"}]}},
    "a literal secret value": {
        "brain": {"secretEnv": [{"name": "K", "secretName": "s", "key": "k", "value": "x"}]}
    },
    "two SQLite writers": {"store": {"replicas": 2}},
    "a VAD threshold out of range": {"config": {"features": {"vad_threshold": 3}}},
    "a misspelt feature flag": {"config": {"features": {"answer_hard_timeout": 15}}},
    "a root user": {"securityContext": {"runAsUser": 0}},
    "a misspelt top-level key": {"ingres": {"enabled": False}},
    "TLS without a certificate secret": {"ingress": {"tls": {"enabled": True}}},
    "a drain time of zero": {"dialer": {"callDrainSeconds": 0}},
    "internal auth written into the config": {"config": {"internal_auth": {"mode": "off"}}},
    "an unknown internal auth mode": {"internalAuth": {"mode": "tls"}},
    "a token mode without its Secret": {"internalAuth": {"mode": "token"}},
    "an mtls mode without its Secret": {
        "internalAuth": {"mode": "mtls+token", "tokenSecret": {"name": "t", "key": "token"}}
    },
}


@pytest.mark.parametrize("case", sorted(WRONG_VALUES))
def test_a_wrong_value_is_refused_at_install_time(case: str) -> None:
    with pytest.raises(helm.HelmValuesError, match="schema"):
        render(WRONG_VALUES[case])


def test_the_schema_knows_every_feature_flag_of_the_config() -> None:
    with helm.Chart.load(CHART) as chart:
        schema = chart.schema
    assert schema is not None
    flags = schema["properties"]["config"]["properties"]["features"]["properties"]
    assert set(flags) == set(Features.model_fields)


def test_the_default_values_match_the_config_defaults() -> None:
    with helm.Chart.load(CHART) as chart:
        values = chart.values
    assert values["config"]["features"] == Features().model_dump()
    assert values["dialer"]["callDrainSeconds"] == Settings().dialer.drain_timeout_sec


INTERNAL_MOUNTS = {
    "internal-token": "/etc/switchboard/internal-token",
    "internal-tls": "/etc/switchboard/internal-tls",
}


def _internal_auth_files(pod: dict[str, Any], container: dict[str, Any]) -> dict[str, str]:
    """Secret name of each internal-auth volume the container mounts where config expects it."""
    mounted = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    secrets = {v["name"]: v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v}
    return {
        name: secrets[name]
        for name, path in INTERNAL_MOUNTS.items()
        if mounted.get(name) == path and name in secrets
    }


def test_internal_auth_is_off_by_default_and_mounts_nothing() -> None:
    rendered = render(None)
    assert Settings.model_validate(rendered.config()).internal_auth.mode == "off"
    for service in SERVICES:
        pod = rendered.deployment(service)["spec"]["template"]["spec"]
        assert _internal_auth_files(pod, pod["containers"][0]) == {}


def test_production_requires_a_token_and_client_certificates_from_secrets_everywhere() -> None:
    rendered = render(production_values())
    auth = Settings.model_validate(rendered.config()).internal_auth
    assert auth.mode == "mtls+token"
    assert auth.token_file == "/etc/switchboard/internal-token/token"
    assert auth.token.get_secret_value() == ""  # never a value in the ConfigMap
    assert (auth.cert_file, auth.key_file, auth.ca_file) == (
        "/etc/switchboard/internal-tls/tls.crt",
        "/etc/switchboard/internal-tls/tls.key",
        "/etc/switchboard/internal-tls/ca.crt",
    )
    assert auth.server_name == "switchboard-internal" and auth.health_port == 8086
    for service in SERVICES:  # the gateway too: it is a client of the others
        pod = rendered.deployment(service)["spec"]["template"]["spec"]
        assert _internal_auth_files(pod, pod["containers"][0]) == {
            "internal-token": "switchboard-internal-token",
            "internal-tls": "switchboard-internal-tls",
        }, service


def test_token_mode_mounts_the_token_only_and_keeps_probes_on_the_service_port() -> None:
    values = {"internalAuth": {"mode": "token", "tokenSecret": {"name": "sb-token", "key": "t"}}}
    rendered = render(values)
    auth = Settings.model_validate(rendered.config()).internal_auth
    assert (auth.mode, auth.cert_file, auth.health_port) == ("token", "", 0)
    store = rendered.deployment("store")["spec"]["template"]["spec"]
    assert _internal_auth_files(store, store["containers"][0]) == {"internal-token": "sb-token"}
    [volume] = [v for v in store["volumes"] if v["name"] == "internal-token"]
    assert volume["secret"]["items"] == [{"key": "t", "path": "token"}]
    assert store["containers"][0]["readinessProbe"]["grpc"]["port"] == _default_port("store")


def test_each_dialer_pod_advertises_its_own_ip_and_grpc_port(rendered: Rendered) -> None:
    [container] = rendered.deployment("dialer")["spec"]["template"]["spec"]["containers"]
    names = [e["name"] for e in container["env"]]
    env = {e["name"]: e for e in container["env"]}
    assert env["SWITCHBOARD_POD_IP"]["valueFrom"] == {"fieldRef": {"fieldPath": "status.podIP"}}
    port = container["ports"][0]["containerPort"]
    advertised = env["SWITCHBOARD__DIALER__ADVERTISE_ADDRESS"]["value"]
    assert advertised == f"$(SWITCHBOARD_POD_IP):{port}"
    # Kubernetes expands $(VAR) only from variables defined earlier in the list.
    assert names.index("SWITCHBOARD_POD_IP") < names.index("SWITCHBOARD__DIALER__ADVERTISE_ADDRESS")
    listen = env["SWITCHBOARD_LISTEN_ADDRESS"]["value"]
    assert listen.endswith(f":{port}")
    for service in ("gateway", "speech", "brain", "store"):
        [other] = rendered.deployment(service)["spec"]["template"]["spec"]["containers"]
        assert "SWITCHBOARD__DIALER__ADVERTISE_ADDRESS" not in {e["name"] for e in other["env"]}
