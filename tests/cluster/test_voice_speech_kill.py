"""Voice mode survives a speech restart: nothing the caller said is lost or filed twice.

One voice call through the five real services (Piper speaks, Whisper listens), the
speech service killed with SIGKILL and started again at three moments:

* before an answer: the caller gives the date while speech is down;
* mid-utterance: speech dies while the caller describes what happened;
* during the bot's reply: speech dies while the bot confirms the description and
  asks for the e-mail (its Speak stream too).

The dialer keeps the caller's audio since the last final transcript and replays it
into the new Listen stream, so each answer reaches the brain once, whole, and is
filed under the field the bot asked for. Every claim field is checked.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from switchboard_cli.launcher import Cluster
from switchboard_cli.scenario import Scenario, claim_mismatches
from switchboard_cli.scenario_voice import VoiceCallee
from tests.cluster.harness import started_cluster, unique_number

CLAIM = [
    {"name": "incident_datetime", "type": "datetime", "description": "when the damage happened"},
    {"name": "incident_description", "type": "text", "description": "what happened"},
    {"name": "policyholder_email", "type": "email", "description": "your e-mail address"},
]
LINES = [
    "It happened on the third of March at 10 am.",
    "A pipe burst under the sink and flooded the kitchen floor.",
    "My email is mary at example dot com.",
    "No, that's all, thank you. Goodbye!",
]
# What Whisper tiny.en reliably hears of each line (it sometimes hears "I piped burst").
HEARD = ["march", "under the sink and flooded the kitchen floor", "example", "bye"]
EXPECT_CLAIM = {
    "incident_datetime": "2026-03-03T10:00:00-08:00",
    "incident_description": "under the sink and flooded the kitchen floor",
}
# Whisper spells the name as it hears a cut and replayed utterance ("mary", "mari"): the
# e-mail field must hold an address at the domain, which is what "misfiled" is about.
EXPECT_EMAIL_DOMAIN = "@example.com"
# The callee talks and the bot plays this much faster than real time. The dialer keeps
# 30 s (media time) of the caller's audio: at 1.5x that covers a 15 s outage.
SPEED = 1.5
# Loading Whisper and Piper again takes 5-10 s on two busy cores; the default 10 s
# reconnect timeout would end the call on a slow restart.
RECONNECT_TIMEOUT_SEC = 30
# Mid-utterance: the description line is about 4 s of audio; kill 1.2 s (media) into it.
MID_LINE_SEC = 1.2 / SPEED
# During the bot's reply: kill after this many of its frames were played (0.6 s).
REPLY_FRAMES = 30


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """The five services, the dialer waiting longer for a restarted speech service."""
    root = tmp_path_factory.mktemp("speech-kill")
    with started_cluster(
        root,
        {
            "SWITCHBOARD__DIALER__RECONNECT_TIMEOUT_SEC": str(RECONNECT_TIMEOUT_SEC),
        },
    ) as cluster:
        yield cluster


class SpeechKiller:
    """Kills the speech service and starts it again, in the background, one at a time."""

    def __init__(self, cluster: Cluster) -> None:
        self._cluster = cluster
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self.moments: list[str] = []

    def kill_and_restart(self, moment: str, delay_sec: float = 0.0) -> None:
        thread = threading.Thread(target=self._run, args=(moment, delay_sec), daemon=True)
        self._threads.append(thread)
        thread.start()

    def _run(self, moment: str, delay_sec: float) -> None:
        threading.Event().wait(delay_sec)
        with self._lock:
            self._cluster.kill("speech")  # SIGKILL: streams die mid-frame, as in a crash
            self.moments.append(moment)
            self._cluster.restart("speech")

    def join(self) -> None:
        for thread in self._threads:
            thread.join(timeout=60)


class CalleeKillingSpeech(VoiceCallee):
    """A voice callee that also kills speech a moment into the bot's reply to a line."""

    def __init__(self, *args: Any, killer: SpeechKiller, reply_to: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._killer = killer
        self._reply_to = reply_to
        self._said = -1
        self._reply_frames = 0

    def note_line(self, index: int) -> None:
        self._said = index

    def _on_bot_frame(self, pcm: bytes) -> None:
        super()._on_bot_frame(pcm)
        if self._said == self._reply_to:
            self._reply_frames += 1
            if self._reply_frames == REPLY_FRAMES:
                self._killer.kill_and_restart("during the bot's reply")


def test_killing_speech_at_any_moment_of_a_voice_call_loses_no_answer_and_misfiles_none(
    cluster: Cluster,
) -> None:
    killer = SpeechKiller(cluster)
    callee: CalleeKillingSpeech

    def before_line(index: int) -> None:
        callee.note_line(index)
        if index == 0:
            killer.kill_and_restart("before an answer")
        elif index == 1:
            killer.kill_and_restart("mid-utterance", MID_LINE_SEC)

    scenario = Scenario.model_validate(
        {"phone_number": unique_number(), "request": {"claim": CLAIM}, "customer": LINES}
    )
    callee = CalleeKillingSpeech(
        scenario,
        cluster.gateway_url,
        cluster.api_key,
        cluster.ports.grpc_address("dialer"),
        cluster.ports.grpc_address("speech"),
        before_line=before_line,
        sample_rate=8000,
        speed=SPEED,
        transcribe_bot=False,
        killer=killer,
        reply_to=1,
    )
    try:
        result = asyncio.run(callee.run(limit_sec=240))
    finally:
        killer.join()
    call = result.call

    assert killer.moments == ["before an answer", "mid-utterance", "during the bot's reply"]
    assert result.end_reason == "claim_complete", result.heard
    assert claim_mismatches(EXPECT_CLAIM, call["claim"]) == [], call["claim"]
    assert call["claim"]["policyholder_email"].endswith(EXPECT_EMAIL_DOMAIN), call["claim"]
    assert set(call["claim"]) == {field["name"] for field in CLAIM}
    human = [m["content"] for m in call["messages"] if m["persona"] == "human" and m["content"]]
    # Each answer reached the brain once, whole, in order: nothing lost, nothing replayed twice.
    assert len(human) == len(LINES), human
    for said, heard in zip(human, HEARD, strict=True):
        assert heard in " ".join(said.casefold().split()), human
