"""Each service's Dockerfile: multi-stage, protobuf code generated in the build stage,
a pinned base image, a non-root runtime with a health check. No Docker engine runs here,
so the structure is what is checked."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from switchboard.config import GatewaySettings, ServiceAddresses
from tests.deploy.dockerfile import Stage, parse

REPO = Path(__file__).resolve().parents[2]
SERVICES = ("gateway", "dialer", "speech", "brain", "store")


def _stages(service: str) -> list[Stage]:
    _, stages = parse(REPO / "services" / service / "Dockerfile")
    return stages


def _port(service: str) -> int:
    if service == "gateway":
        return GatewaySettings().port
    return int(str(getattr(ServiceAddresses(), service)).rsplit(":", 1)[1])


@pytest.mark.parametrize("service", SERVICES)
def test_the_image_is_built_in_stages_and_runs_from_the_last(service: str) -> None:
    stages = _stages(service)
    assert len(stages) >= 2
    build, runtime = stages[0], stages[-1]
    copies = runtime.arguments("COPY")
    assert any(c.startswith(f"--from={build.name} ") for c in copies), copies


@pytest.mark.parametrize("service", SERVICES)
def test_the_protobuf_code_is_generated_in_the_build_stage_only(service: str) -> None:
    *builders, runtime = _stages(service)
    generated_in = [
        s.name for s in builders if any("grpc_tools.protoc" in r for r in s.arguments("RUN"))
    ]
    assert generated_in, "no build stage runs grpc_tools.protoc"
    assert not any("grpc_tools" in r or "grpcio-tools" in r for r in runtime.arguments("RUN"))
    build = next(s for s in builders if s.name == generated_in[0])
    protoc = next(r for r in build.arguments("RUN") if "grpc_tools.protoc" in r)
    # The same command as `make protos`, with the version pinned in requirements-dev.txt.
    assert "--pyi_out=lib" in protoc and "--grpc_python_out=lib" in protoc
    pinned = re.search(r"grpcio-tools==([\d.]+)", " ".join(build.arguments("RUN")))
    dev_requirements = (REPO / "requirements-dev.txt").read_text(encoding="utf-8")
    assert pinned and f"grpcio-tools=={pinned.group(1)}" in dev_requirements


@pytest.mark.parametrize("service", SERVICES)
def test_every_base_image_has_a_tag_and_it_is_not_latest(service: str) -> None:
    for stage in _stages(service):
        if "@sha256:" in stage.image:
            continue
        name, _, tag = stage.image.rpartition(":")
        assert name and tag and "/" not in tag, f"{stage.image} has no tag"
        assert tag != "latest" and "$" not in stage.image


@pytest.mark.parametrize("service", SERVICES)
def test_the_runtime_runs_as_a_numeric_non_root_user(service: str) -> None:
    runtime = _stages(service)[-1]
    users = runtime.arguments("USER")
    assert users, "the runtime stage never leaves root"
    user = users[-1].split(":")[0]
    assert user.isdigit() and int(user) != 0, users[-1]
    # The Helm chart runs the pods as the same user.
    values = (REPO / "deploy/helm/switchboard/values.yaml").read_text(encoding="utf-8")
    assert f"runAsUser: {user}" in values


@pytest.mark.parametrize("service", SERVICES)
def test_the_runtime_has_a_health_check_and_exposes_the_config_port(service: str) -> None:
    runtime = _stages(service)[-1]
    [healthcheck] = runtime.arguments("HEALTHCHECK")
    port = _port(service)
    assert str(port) in healthcheck
    expected = "/health/liveness" if service == "gateway" else "grpc_health"
    assert expected in healthcheck
    assert runtime.arguments("EXPOSE") == [str(port)]


@pytest.mark.parametrize("service", SERVICES)
def test_the_command_is_the_service_module_in_exec_form(service: str) -> None:
    [command] = _stages(service)[-1].arguments("CMD")
    assert json.loads(command) == ["python", "-m", f"switchboard_{service}"]


def test_the_build_context_leaves_out_secrets_caches_and_generated_code() -> None:
    ignored = (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
    for pattern in (
        ".git",
        ".venv",
        "var",
        "switchboard.yaml",
        ".env",
        "lib/switchboard/v1/*_pb2.py",
    ):
        assert pattern in ignored, pattern
    for needed in ("protos", "lib", "services", "requirements.txt", "pyproject.toml"):
        assert needed not in ignored


def test_the_reader_sees_a_single_stage_image_as_one_stage(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text('ARG BASE=python:latest\nFROM ${BASE}\nRUN echo \\\n  hi\nCMD ["x"]\n')
    _, [stage] = parse(dockerfile)
    assert stage.image == "python:latest"
    assert stage.arguments("RUN") == ["echo hi"]


def test_the_store_image_carries_the_command_the_migration_job_runs() -> None:
    # The Helm pre-install Job runs migration.command in the store's image; the
    # `switchboard` script lives in the CLI package, which the image must copy.
    values = (REPO / "deploy" / "helm" / "switchboard" / "values.yaml").read_text()
    assert 'command: ["switchboard", "migrate"]' in values
    pyproject = (REPO / "pyproject.toml").read_text()
    assert 'switchboard = "switchboard_cli.cli:main"' in pyproject
    build = _stages("store")[0]
    assert "cli cli" in build.arguments("COPY"), build.arguments("COPY")
