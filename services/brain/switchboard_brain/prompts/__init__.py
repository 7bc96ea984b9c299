"""Prompt templates (Jinja) of the llm policy and the post-call report."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import yaml
from jinja2 import Environment, PackageLoader, StrictUndefined, Template


@lru_cache(maxsize=1)
def environment() -> Environment:
    # Not HTML: autoescape off on purpose; caller data goes in as JSON (json.dumps).
    return Environment(
        loader=PackageLoader("switchboard_brain", "prompts"),
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(name: str, **values: Any) -> str:
    return environment().get_template(name).render(**values).strip()


@lru_cache(maxsize=1)
def tool_descriptions() -> dict[str, Template]:
    loader = environment().loader
    assert loader is not None
    source, _, _ = loader.get_source(environment(), "tools.yaml")
    raw = yaml.safe_load(source)
    return {name: environment().from_string(text) for name, text in raw.items()}
