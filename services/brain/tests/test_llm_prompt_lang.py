"""The llm policy's system prompt in the call's language, from per-language prompt files
an operator can override (``brain.prompts_dir``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from switchboard.config import ConfigError
from switchboard_brain import prompts
from switchboard_testing.llm_helpers import Rig


@pytest.fixture(autouse=True)
def packaged_prompts() -> Iterator[None]:
    yield
    prompts.use_override_dir(None)


async def system_prompt_of(lang: str) -> str:
    rig = Rig()
    rig.call.lang = lang
    await rig.say("Bonjour")
    system = rig.fast.requests[0].messages[0]
    assert system.role == "system"
    return system.content or ""


async def test_a_call_in_french_gets_the_french_system_prompt() -> None:
    system = await system_prompt_of("fr-FR")
    assert system.startswith("Vous êtes Amelia, agent téléphonique de Contoso Insurance.")
    assert "nous sommes le mardi 24 novembre 2026, 10:00 (UTC-0500)" in system
    assert "Parlez français (fr-FR), comme le client l'a demandé" in system
    assert "# Règles" in system and "Rules" not in system


async def test_a_call_in_english_keeps_the_english_system_prompt() -> None:
    system = await system_prompt_of("en-US")
    assert system.startswith("You are Amelia, a phone agent of Contoso Insurance.")
    assert "Tuesday 24 November 2026, 10:00 (UTC-0500)" in system


@pytest.mark.parametrize(
    ("lang", "template"),
    [
        ("fr-FR", "system.fr.jinja"),
        ("fr-CA", "system.fr.jinja"),  # a region without its own file: the language's
        ("de-DE", "system.jinja"),  # a language without a file: English
        ("", "system.jinja"),
    ],
)
def test_the_prompt_file_is_chosen_by_tag_then_language_then_english(
    lang: str, template: str
) -> None:
    assert prompts.template_for("system", lang) == template


async def test_an_operators_prompt_file_overrides_the_packaged_one(tmp_path: Path) -> None:
    (tmp_path / "system.fr-CA.jinja").write_text(
        "Vous êtes {{ request.bot_name }} ({{ lang }}), au Québec. {{ claim_json }}",
        encoding="utf-8",
    )
    prompts.use_override_dir(tmp_path)
    assert (await system_prompt_of("fr-CA")).startswith("Vous êtes Amelia (fr-CA), au Québec.")
    # Other languages keep the packaged files.
    assert (await system_prompt_of("fr-FR")).startswith("Vous êtes Amelia, agent")


@pytest.mark.parametrize(
    ("content", "error"),
    [
        ("Vous êtes {{ request.bot_name }", "line 1"),
        ("Bonjour {{ caller_name }}", "caller_name"),
    ],
)
def test_a_broken_operator_prompt_stops_the_brain_at_startup(
    tmp_path: Path, content: str, error: str
) -> None:
    (tmp_path / "system.fr.jinja").write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=error):
        prompts.use_override_dir(tmp_path)


def test_a_prompts_dir_that_is_not_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a directory"):
        prompts.use_override_dir(tmp_path / "missing")
