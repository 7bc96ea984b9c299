"""Streamed text is cut into whole sentences, and only at real sentence ends."""

from __future__ import annotations

import pytest

from switchboard_brain.llm.sentences import SentenceSplitter


def split(text: str, step: int = 1) -> list[str]:
    splitter = SentenceSplitter()
    out: list[str] = []
    for i in range(0, len(text), step):
        out += splitter.feed(text[i : i + step])
    return out + splitter.flush()


@pytest.mark.parametrize("step", [1, 2, 5, 1000])
def test_prices_titles_and_initials_are_not_sentence_ends(step: int) -> None:
    text = "It costs $29.99. Dr. Smith and J. R. Doe agree, e.g. on Mon. Really? Yes!"
    assert split(text, step) == [
        "It costs $29.99.",
        "Dr. Smith and J. R. Doe agree, e.g. on Mon.",
        "Really?",
        "Yes!",
    ]


def test_a_sentence_is_released_as_soon_as_the_space_after_it_arrives() -> None:
    splitter = SentenceSplitter()
    assert splitter.feed("Sure.") == []
    assert splitter.feed(" Next") == ["Sure."]


def test_a_m_waits_for_the_next_word_to_decide() -> None:
    assert split("Come at 9 a.m. tomorrow. Bring ID.") == ["Come at 9 a.m. tomorrow.", "Bring ID."]
    assert split("We open at 9 a.m. Bring ID.") == ["We open at 9 a.m.", "Bring ID."]


def test_markdown_and_line_breaks_become_plain_sentences() -> None:
    assert split("**Note**: here\n- first item\n- second item") == [
        "Note: here",
        "first item",
        "second item",
    ]
