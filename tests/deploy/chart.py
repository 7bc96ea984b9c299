"""Rendering the Helm chart offline (Helm 4 as a library) and reading what it produced."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import helm_python as helm
import yaml

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "deploy" / "helm" / "switchboard"
PRODUCTION_VALUES = REPO / "deploy" / "helm" / "values-production.yaml"
SERVICES = ("gateway", "dialer", "speech", "brain", "store")
RELEASE = "sb"
NAMESPACE = "switchboard"
KUBE_VERSION = "1.30.0"


def production_values() -> dict[str, Any]:
    values: dict[str, Any] = yaml.safe_load(PRODUCTION_VALUES.read_text(encoding="utf-8"))
    return values


@dataclass(frozen=True)
class Rendered:
    """Every manifest a release would apply, by kind and name."""

    documents: list[dict[str, Any]]

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [d for d in self.documents if d["kind"] == kind]

    def get(self, kind: str, name: str) -> dict[str, Any]:
        matches = [d for d in self.of_kind(kind) if d["metadata"]["name"] == name]
        assert len(matches) == 1, f"expected one {kind} {name}, found {len(matches)}"
        return matches[0]

    def deployment(self, service: str) -> dict[str, Any]:
        return self.get("Deployment", f"{RELEASE}-switchboard-{service}")

    def containers(self) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
        """(workload name, pod spec, container) of every Deployment and Job."""
        for doc in self.documents:
            if doc["kind"] in ("Deployment", "Job"):
                pod = doc["spec"]["template"]["spec"]
                for container in pod["containers"]:
                    yield doc["metadata"]["name"], pod, container

    def config(self) -> dict[str, Any]:
        """The switchboard.yaml the services read."""
        configmap = self.get("ConfigMap", f"{RELEASE}-switchboard-config")
        parsed: dict[str, Any] = yaml.safe_load(configmap["data"]["switchboard.yaml"])
        return parsed


def render(values: dict[str, Any] | None = None) -> Rendered:
    """Renders as ``helm install`` would (values checked against values.schema.json)."""
    with helm.Chart.load(CHART) as chart:
        manifests = chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
    documents = [
        doc
        for path, text in sorted(manifests.items())
        if path.endswith(".yaml")
        for doc in yaml.safe_load_all(text)
        if doc
    ]
    return Rendered(documents)
