"""The short-window whisper settings, without the model."""

from __future__ import annotations

from switchboard_speech.stt.whisper import (
    FULL_WINDOW_FRAMES,
    confidence_of,
    looks_looped,
    max_tokens,
    said_once,
    window_frames,
)


def test_the_encoder_window_is_the_clip_plus_two_seconds_capped_at_thirty() -> None:
    assert window_frames(3.0) == 500
    assert window_frames(29.0) == FULL_WINDOW_FRAMES


def test_the_token_cap_grows_with_the_clip() -> None:
    assert max_tokens(1.0) < max_tokens(5.0) <= 440


def test_a_phrase_repeated_until_the_cap_is_a_loop() -> None:
    assert looks_looped("Yes, that's right. Yes, that's right.", 20, 40, 1.2)
    assert looks_looped("No no no no no no", 39, 40, 1.5)
    # Seen on a clean 16 kHz Piper sentence: the phrase again, cut short.
    assert looks_looped(
        "A pipe burst under the sink and flooded the kitchen floor. "
        "A pipe burst under the sink and flooded the kitchen",
        30,
        60,
        1.4,
    )
    assert not looks_looped("It was broken. It was on the floor.", 12, 40, 1.2)
    assert looks_looped("a" * 10, 5, 40, 3.0)
    assert not looks_looped("My name is Anna. I live in Paris.", 14, 40, 1.1)


def test_confidence_is_the_mean_token_probability() -> None:
    assert confidence_of([]) == 0.0
    assert 0.6 < confidence_of([-0.3, -0.4]) < 0.75


def test_a_text_said_again_in_full_or_cut_short_is_taken_as_said_once() -> None:
    # The short window's usual loop on clean speech: a second decode would cost 4-10x.
    assert (
        said_once(
            "It happened yesterday at 9 in the morning. It happened yesterday at 9 in the morning."
        )
        == "It happened yesterday at 9 in the morning."
    )
    assert (
        said_once(
            "A pipe burst under the sink and flooded the kitchen floor. "
            "A pipe burst under the sink and flooded the kitchen"
        )
        == "A pipe burst under the sink and flooded the kitchen floor."
    )
    assert (
        said_once("It happened at 9. It happened at 9. It happened at 9. It") == "It happened at 9."
    )
    assert said_once("John Smith. It is j at x dot com. John Smith. It is j at") == (
        "John Smith. It is j at x dot com."
    )


def test_other_loops_and_plain_texts_are_not_taken_as_repeats() -> None:
    assert said_once("No no no no no no") is None  # decoded again with the full window
    assert said_once("Yes. Yes.") is None  # too short to tell a loop from an answer
    assert said_once("It was broken. It was on the floor.") is None
    assert said_once("A pipe burst. A pipe burst under the sink.") is None
    assert said_once("My name is Anna. I live in Paris.") is None
