"""The provider registry: a name from config → an instance of that vendor's module.

Every seam (telephony, SMS, VAD, STT, TTS, chat model, knowledge base, store) is
one :class:`Seam`: its config key, its base class and a table of vendors, kept
beside the base class. A vendor names its class as ``"package.module:Class"``, so
its module (and the SDK it imports) is loaded only when chosen; when that SDK is
missing, the error names the requirements file that installs it. ``create`` is
the only way a service turns a configured name into a provider.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from switchboard.config import ConfigError

T = TypeVar("T")

# The base install: a vendor without an optional SDK needs nothing more.
BASE_REQUIREMENTS = "requirements.txt"


@dataclass(frozen=True)
class Vendor:
    """One provider of a seam.

    ``section`` says which settings the provider is given, as its first argument:
    ``None`` — none (it has no settings); ``""`` — the settings ``create`` was
    given; a dotted path — that attribute of them (``"rag"`` → ``settings.rag``;
    from the root settings, ``"dialer.sip"`` → ``settings.dialer.sip``).
    ``extra`` is the requirements file that installs its optional SDK.
    """

    target: str
    extra: str = BASE_REQUIREMENTS
    section: str | None = None


@dataclass(frozen=True)
class Seam(Generic[T]):
    """A capability with interchangeable vendors, chosen by name under config ``key``."""

    key: str
    base: type[T]
    vendors: Mapping[str, Vendor] = field(default_factory=dict)

    @property
    def choices(self) -> list[str]:
        return sorted(self.vendors)

    def vendor(self, name: str) -> Vendor:
        """The vendor called ``name``; a ConfigError listing the choices when there is none."""
        found = self.vendors.get(name)
        if found is None:
            raise ConfigError(
                f"{self.key}: unknown provider {name!r}; choose one of {', '.join(self.choices)}"
            )
        return found

    def adding(self, name: str, vendor: Vendor) -> Seam[T]:
        """This seam with one more vendor (a plugin, or a test's stand-in)."""
        return Seam(self.key, self.base, {**self.vendors, name: vendor})


def section_of(settings: Any, path: str) -> Any:
    """``settings`` itself for ``""``, else the attribute at the dotted ``path``."""
    for name in path.split(".") if path else ():
        settings = getattr(settings, name)
    return settings


def create(seam: Seam[T], name: str, settings: Any = None, **dependencies: Any) -> T:
    """The provider called ``name`` of ``seam``, given its own settings section.

    ``dependencies`` (a store client, a clock, wrapped models) go to the provider's
    constructor as keywords. Raises :class:`ConfigError` for an unknown name or a
    missing optional SDK (naming the requirements file to install).
    """
    vendor = seam.vendor(name)
    module_name, _, class_name = vendor.target.partition(":")
    args: tuple[Any, ...] = ()
    if vendor.section is not None:
        args = (section_of(settings, vendor.section),)
    try:
        # Vendor modules import their SDK at the top or in the constructor: both count.
        provider_class = getattr(importlib.import_module(module_name), class_name)
        provider = provider_class(*args, **dependencies)
    except ImportError as exc:  # the cause stays chained, for an import that is our bug
        problem = f"needs the package {exc.name!r}, which is not installed" if exc.name else exc
        raise ConfigError(
            f"{seam.key}: provider {name!r}: {problem}; "
            f"install it with: pip install -r {vendor.extra}"
        ) from exc
    if not isinstance(provider, seam.base):
        raise ConfigError(f"{seam.key}: {vendor.target} is not a {seam.base.__name__}")
    return provider
