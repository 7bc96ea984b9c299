"""The provider registry: a name from config → an instance of that vendor's module.

Each seam keeps a table ``{"name": "package.module:Class"}``; vendor modules are
imported only when chosen, so an optional SDK that is not installed costs
nothing unless configured, and when it is, the error names the extra to install.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any, TypeVar

from switchboard.config import ConfigError

T = TypeVar("T")


def create_provider(
    setting: str, name: str, table: Mapping[str, str], base: type[T], **kwargs: Any
) -> T:
    """Instantiates the provider registered as ``name`` for the config key ``setting``."""
    target = table.get(name)
    if target is None:
        choices = ", ".join(sorted(table))
        raise ConfigError(f"{setting}: unknown provider {name!r}; choose one of {choices}")
    module_name, _, class_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise ConfigError(
            f"{setting}: provider {name!r} needs the package {exc.name!r}; "
            f"install its extra (see requirements-*.txt)"
        ) from exc
    provider = getattr(module, class_name)(**kwargs)
    if not isinstance(provider, base):
        raise ConfigError(f"{setting}: {target} is not a {base.__name__}")
    return provider
