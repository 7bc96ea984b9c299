"""The import contracts of pyproject.toml hold on this tree and break on a violation.

import-linter finds the packages on ``sys.path``, so each run gets a ``PYTHONPATH`` of
exactly the source roots it should analyse: this checkout's, or a temporary copy of them
with one deliberate bad import added.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = ROOT / "pyproject.toml"
LINT_IMPORTS = "from importlinter.cli import lint_imports_command; lint_imports_command()"


def _source_roots() -> list[Path]:
    """Where the packages live (lib and one folder per service), as pyproject.toml says."""
    config = tomllib.loads(PYPROJECT.read_text())
    return [ROOT / where for where in config["tool"]["setuptools"]["packages"]["find"]["where"]]


def _contract_names() -> list[str]:
    config = tomllib.loads(PYPROJECT.read_text())
    return [contract["name"] for contract in config["tool"]["importlinter"]["contracts"]]


def _lint_imports(roots: list[Path], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(str(root) for root in roots),
        "COLUMNS": "200",  # one contract per line in the report
    }
    return subprocess.run(
        [sys.executable, "-c", LINT_IMPORTS, str(PYPROJECT), "--no-cache"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _copy_tree(target: Path) -> list[Path]:
    """Copies every package's source into ``target``; returns the copied source roots."""
    roots = []
    for index, root in enumerate(_source_roots()):
        copy = target / f"root{index}"
        for package in root.glob("switchboard*/"):
            shutil.copytree(
                package, copy / package.name, ignore=shutil.ignore_patterns("__pycache__")
            )
        roots.append(copy)
    return roots


def _add_import(roots: list[Path], module_path: str, statement: str) -> None:
    """Appends ``statement`` to a module of the copy, creating the module if it is new."""
    package = module_path.split("/")[0]
    (root,) = [root for root in roots if (root / package).is_dir()]
    module = root / module_path
    existing = module.read_text() if module.exists() else ""
    module.write_text(f"{existing}\n{statement}  # deliberate violation\n")


def test_every_service_package_is_under_the_service_contracts() -> None:
    config = tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]
    services = {
        package.name
        for package in (ROOT / "services").glob("*/switchboard_*/")
        if (package / "__init__.py").is_file()
    }
    assert len(services) >= 5
    contracts = {contract["type"]: contract for contract in config["contracts"]}
    (lib_contract,) = [
        contract
        for contract in config["contracts"]
        if contract["type"] == "forbidden" and contract["source_modules"] == ["switchboard"]
    ]
    assert services <= set(config["root_packages"])
    assert set(contracts["independence"]["modules"]) == services
    assert set(lib_contract["forbidden_modules"]) == services


def test_this_tree_keeps_every_import_contract(tmp_path: Path) -> None:
    result = _lint_imports(_source_roots(), tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    for name in _contract_names():
        assert f"{name} KEPT" in result.stdout


# New modules for the first two cases, so that only the contract under test is involved
# (every service imports lib's modules: a bad import in one would also join two services).
# The SIP case edits call.py, since every module of the SIP package must have a layer.
@pytest.mark.parametrize(
    ("module_path", "bad_import", "broken"),
    [
        (
            "switchboard_dialer/bad_import.py",
            "import switchboard_brain",
            "Services talk over gRPC, never by importing each other",
        ),
        (
            "switchboard/bad_import.py",
            "import switchboard_store",
            "The shared library imports no service",
        ),
        (
            "switchboard_store/bad_import.py",
            "from switchboard_testing import clock",
            "Services and lib import neither the CLI nor the test support",
        ),
        (
            "switchboard/converse.py",
            "from switchboard.v1 import brain_pb2",
            "Stream contracts are domain types, without generated code",
        ),
        (
            "switchboard_dialer/telephony/sip/call.py",
            "from switchboard_dialer.telephony.sip import endpoint",
            "The SIP stack is layered (so it has no import cycle)",
        ),
    ],
    ids=[
        "a-service-imports-another",
        "lib-imports-a-service",
        "a-service-imports-the-test-support",
        "a-stream-contract-imports-protobuf",
        "sip-call-imports-endpoint",
    ],
)
def test_a_deliberate_bad_import_breaks_its_contract(
    tmp_path: Path, module_path: str, bad_import: str, broken: str
) -> None:
    roots = _copy_tree(tmp_path / "tree")
    _add_import(roots, module_path, bad_import)
    result = _lint_imports(roots, tmp_path)
    assert result.returncode != 0
    assert f"{broken} BROKEN" in result.stdout, result.stdout
    others = [name for name in _contract_names() if name != broken]
    for name in others:
        assert f"{name} KEPT" in result.stdout, result.stdout
