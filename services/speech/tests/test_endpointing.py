"""Endpointing on media time: frames in, utterance boundaries out, no wall clock."""

from __future__ import annotations

from switchboard.config import Features
from switchboard_speech.endpointing import Action, Endpointer, EndpointParams, Kind

PARAMS = EndpointParams(threshold=0.5, silence_ms=500, start_ms=100, speculate_ms=120)


def run(pattern: list[tuple[bool, int]], params: EndpointParams = PARAMS) -> list[Action]:
    """Feeds (voiced, frame count) runs; returns every action."""
    endpointer = Endpointer()
    actions: list[Action] = []
    for voiced, count in pattern:
        for _ in range(count):
            actions.extend(endpointer.step(voiced, endpointer.params_for(params)))
    return actions


def kinds(actions: list[Action]) -> list[Kind]:
    return [a.kind for a in actions]


def test_speech_started_is_sent_after_the_start_window_with_the_onset_offset() -> None:
    actions = run([(False, 10), (True, 5)])
    assert kinds(actions) == [Kind.BEGIN, Kind.STARTED]
    assert actions[1].offset_ms == 200


def test_speech_ended_comes_after_the_silence_timeout_at_the_end_of_speech() -> None:
    actions = run([(False, 5), (True, 20), (False, 24)])
    assert Kind.ENDED not in kinds(actions)
    actions = run([(False, 5), (True, 20), (False, 25)])
    ended = [a for a in actions if a.kind is Kind.ENDED]
    assert ended == [Action(Kind.ENDED, 500)]


def test_a_pause_triggers_speculation_and_resuming_makes_it_stale() -> None:
    actions = run([(True, 10), (False, 6), (True, 3), (False, 25)])
    assert kinds(actions) == [
        Kind.BEGIN,
        Kind.STARTED,
        Kind.PAUSED,
        Kind.RESUMED,
        Kind.PAUSED,
        Kind.ENDED,
    ]


def test_a_short_word_is_announced_when_it_ends() -> None:
    actions = run([(True, 8), (False, 25)], EndpointParams(start_ms=250, silence_ms=500))
    assert kinds(actions) == [Kind.BEGIN, Kind.PAUSED, Kind.STARTED, Kind.ENDED]


def test_a_click_shorter_than_a_word_is_discarded() -> None:
    actions = run([(True, 2), (False, 30)])
    assert kinds(actions) == [Kind.BEGIN, Kind.DISCARDED]


def test_an_endless_utterance_is_cut_at_the_cap_and_goes_on_as_a_new_one() -> None:
    params = EndpointParams(start_ms=100, silence_ms=500, max_utterance_ms=1000)
    actions = run([(True, 60)], params)
    ended = [a for a in actions if a.kind is Kind.ENDED]
    assert [a.offset_ms for a in ended] == [1000]
    assert all(a.forced for a in ended)
    assert kinds(actions).count(Kind.BEGIN) == 2


def test_parameters_are_frozen_inside_an_utterance_and_fresh_between_utterances() -> None:
    endpointer = Endpointer()
    short = EndpointParams(silence_ms=100, start_ms=40)
    long = EndpointParams(silence_ms=1000, start_ms=40)
    for _ in range(5):
        endpointer.step(True, endpointer.params_for(short))
    assert endpointer.params_for(long) == short
    ended = []
    for _ in range(5):
        ended += [
            a for a in endpointer.step(False, endpointer.params_for(long)) if a.kind is Kind.ENDED
        ]
    assert ended, "the utterance kept the silence window it started with"
    assert endpointer.params_for(long) == long


def test_feature_flags_map_to_endpoint_parameters() -> None:
    params = EndpointParams.from_features(
        Features(vad_silence_timeout_ms=800, vad_cutoff_timeout_ms=300, vad_threshold=0.7)
    )
    assert (params.silence_ms, params.start_ms, params.threshold) == (800, 300, 0.7)
    assert EndpointParams.from_features(Features(vad_silence_timeout_ms=60)).speculate_ms == 40
