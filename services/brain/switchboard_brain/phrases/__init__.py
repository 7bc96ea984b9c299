"""The bot's fixed phrases, per language, from YAML files an operator can override.

``get("goodbye", "fr-FR", bot_company="Contoso")`` → the French goodbye. A language is
looked up as its full tag (``fr-CA.yaml``), then its primary subtag (``fr.yaml``), then
English; a key missing from an operator's file comes from the packaged file of the same
language. Operator files live in ``brain.phrases_dir`` and are checked at startup
(:func:`use_override_dir`): an unknown key or a placeholder the code does not fill is a
:class:`ConfigError` then, never a failed turn later.
"""

from __future__ import annotations

import functools
import string
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from switchboard.config import ConfigError

FALLBACK = "en"
_override_dir: Path | None = None


def _parse(text: str, where: str) -> dict[str, str]:
    data = yaml.safe_load(text) or {}
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise ConfigError(f"{where}: phrases must be a mapping of names to strings")
    return data


@functools.cache
def _packaged(name: str) -> dict[str, str]:
    resource = resources.files(__package__).joinpath(f"{name}.yaml")
    if not resource.is_file():
        return {}
    return _parse(resource.read_text(encoding="utf-8"), f"{name}.yaml")


@functools.cache
def _operator(directory: Path, name: str) -> dict[str, str]:
    path = directory / f"{name}.yaml"
    if not path.is_file():
        return {}
    phrases = _parse(path.read_text(encoding="utf-8"), str(path))
    reference = _packaged(FALLBACK)
    for key, text in phrases.items():
        if key not in reference:
            raise ConfigError(f"{path}: unknown phrase {key!r}; the names are those of en.yaml")
        extra = _placeholders(text) - _placeholders(reference[key])
        if extra:
            raise ConfigError(
                f"{path}: phrase {key!r} uses {{{sorted(extra)[0]}}}, which is never filled in; "
                f"it may use {sorted(_placeholders(reference[key])) or 'no placeholder'}"
            )
    return phrases


def _placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


def _names(lang: str) -> list[str]:
    """``"fr-FR"`` → ``["fr-FR", "fr", "en"]``."""
    names = [lang, lang.split("-", 1)[0].lower()] if lang else []
    return [*dict.fromkeys([*names, FALLBACK])]


def use_override_dir(directory: str | Path | None) -> None:
    """Operator phrase files from now on (None: the packaged ones only); each file in it
    is read and checked now."""
    global _override_dir
    _override_dir = Path(directory) if directory else None
    if _override_dir is None:
        return
    if not _override_dir.is_dir():
        raise ConfigError(f"brain.phrases_dir: {_override_dir} is not a directory")
    for path in sorted(_override_dir.glob("*.yaml")):
        _operator(_override_dir, path.stem)


def text(key: str, lang: str) -> str:
    """The phrase ``key`` in ``lang`` (or the nearest language that has it), unfilled."""
    for name in _names(lang):
        if _override_dir is not None and key in (found := _operator(_override_dir, name)):
            return found[key]
        if key in (packaged := _packaged(name)):
            return packaged[key]
    raise KeyError(f"no phrase {key!r}")


def get(key: str, lang: str, **values: Any) -> str:
    """The phrase ``key`` in ``lang``, its placeholders filled with ``values``."""
    return text(key, lang).format(**values)


def is_english(lang: str) -> bool:
    """Whether ``lang`` is English (or unset): the phrasing rules written for English apply."""
    return not lang or lang.lower().startswith("en")
