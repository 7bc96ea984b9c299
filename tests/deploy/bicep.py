"""Reading the Bicep templates with pycep-parser (a parser: no type checking, no compiler)."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from pycep import BicepParser

REPO = Path(__file__).resolve().parents[2]
BICEP = REPO / "deploy" / "bicep"


def files() -> list[Path]:
    return sorted(BICEP.rglob("*.bicep"))


@cache
def parsed(path: Path) -> dict[str, Any]:
    """The file as pycep's JSON tree; raises on a syntax error."""
    tree: dict[str, Any] = BicepParser().parse(file_path=path)
    return tree


def resources() -> Iterator[tuple[Path, str, dict[str, Any]]]:
    """(file, symbolic name, resource) of every resource in every file."""
    for path in files():
        for name, resource in (parsed(path).get("resources") or {}).items():
            yield path, name, resource


def body(resource: dict[str, Any]) -> dict[str, Any]:
    """A resource's properties, whether it is declared once or in a loop."""
    config: dict[str, Any] = resource["config"]
    return config["config"] if "loop_type" in config or "condition" in config else config


def walk(node: Any) -> Iterator[Any]:
    """Every dict and list below ``node``."""
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)
