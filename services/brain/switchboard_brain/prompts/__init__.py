"""Prompt templates (Jinja) of the llm policy and the post-call report.

The llm policy's system prompt is per language: ``system.fr.jinja`` for French calls,
``system.jinja`` (English) for any language without its own file. A language is looked
up as its full tag (``system.fr-CA.jinja``), then its primary subtag, then English.
An operator overrides any template with a file of the same name in
``brain.prompts_dir``; those files are checked at startup (:func:`use_override_dir`):
a syntax error, or a value the code does not fill, is a :class:`ConfigError` then,
never a failed turn later.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    Template,
    TemplateNotFound,
    TemplateSyntaxError,
    meta,
)

from switchboard.config import ConfigError

# What the code fills in a system prompt (``policy.llm_prompt.system_prompt``).
SYSTEM_VALUES = frozenset(
    {
        "request",
        "outbound",
        "now",
        "timezone",
        "lang",
        "interrupted",
        "unverified",
        "claim_json",
        "reminders_json",
    }
)
_override_dir: Path | None = None


@lru_cache(maxsize=1)
def environment() -> Environment:
    package = PackageLoader("switchboard_brain", "prompts")
    loader = (
        package
        if _override_dir is None
        else ChoiceLoader([FileSystemLoader(str(_override_dir)), package])
    )
    # Not HTML: autoescape off on purpose; caller data goes in as JSON (json.dumps).
    return Environment(
        loader=loader,
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def use_override_dir(directory: str | Path | None) -> None:
    """Operator templates from now on (None: the packaged ones only); each ``.jinja``
    file in it is parsed and checked now."""
    global _override_dir
    _override_dir = Path(directory) if directory else None
    environment.cache_clear()
    tool_descriptions.cache_clear()
    if _override_dir is None:
        return
    if not _override_dir.is_dir():
        raise ConfigError(f"brain.prompts_dir: {_override_dir} is not a directory")
    env = environment()
    for path in sorted(_override_dir.glob("*.jinja")):
        try:
            parsed = env.parse(path.read_text(encoding="utf-8"))
        except TemplateSyntaxError as exc:
            raise ConfigError(f"{path}: line {exc.lineno}: {exc.message}") from exc
        if path.name.startswith("system."):
            unknown = meta.find_undeclared_variables(parsed) - SYSTEM_VALUES
            if unknown:
                raise ConfigError(
                    f"{path}: uses {{{{ {sorted(unknown)[0]} }}}}, which is never filled in; "
                    f"it may use {', '.join(sorted(SYSTEM_VALUES))}"
                )


def render(name: str, **values: Any) -> str:
    return environment().get_template(name).render(**values).strip()


def template_for(stem: str, lang: str) -> str:
    """The template of ``stem`` for ``lang``: ``"system", "fr-FR"`` →
    ``system.fr-FR.jinja``, else ``system.fr.jinja``, else ``system.jinja``."""
    names = [f"{stem}.{lang}.jinja", f"{stem}.{lang.split('-', 1)[0].lower()}.jinja"]
    env = environment()
    for name in dict.fromkeys(names) if lang else ():
        try:
            env.get_template(name)
        except TemplateNotFound:
            continue
        return name
    return f"{stem}.jinja"


def render_for(stem: str, lang: str, **values: Any) -> str:
    """``stem``'s template in ``lang`` (or the nearest language that has one), rendered."""
    return render(template_for(stem, lang), lang=lang, **values)


@lru_cache(maxsize=1)
def tool_descriptions() -> dict[str, Template]:
    loader = environment().loader
    assert loader is not None
    source, _, _ = loader.get_source(environment(), "tools.yaml")
    raw = yaml.safe_load(source)
    return {name: environment().from_string(text) for name, text in raw.items()}
