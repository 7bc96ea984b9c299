"""``BargeIn``: the barge-in state machine of one call (the rule it applies is ``barge_in``).

Two states. **Listening**: nothing is held. **Holding** a turn: the caller
started to speak while the bot played it, so playout stopped within one frame
and the carrier's queue was cleared, but the turn's audio is kept.

    listening --speech_started while a turn plays--> holding(turn)     [pause]
    holding   --speech_ended--> holding, the transcript timer armed
    holding   --final transcript, a backchannel or no words--> listening  [resume]
    holding   --no final transcript within TRANSCRIPT_WAIT_SEC--> listening  [resume]
    holding   --Listen reopened--> holding, the transcript timer armed (the new stream
                gets the caller's audio again and re-announces the utterance)
    holding   --speech_started again--> holding, the transcript timer disarmed
    holding   --final transcript with words--> listening; the owner cancels the turn

Echo (the bot's own words heard back, ``echo``) resumes like a backchannel, and
makes the line an *echoing* one: from then on speech_started while a turn plays only
marks the turn *suspect* without pausing; a partial transcript whose words are not
echo nor a backchannel pauses it (holding), and a final one decides as above (a
recogniser without partials: the final one pauses and interrupts at once). Pausing
at the onset on such a line would stutter: each resume plays, echoes, and pauses
again. A final transcript with nothing held is echo too (and dropped) when the
speech started while the bot played or had just stopped. The audio can tell sooner
than the words (``double_talk``): the caller's voice clearly above the echo the line
was learnt to return holds the suspect turn at once (:meth:`caller_over_echo`), and
the final transcript decides as for any held turn.

Cancelling an interrupted turn (its queued audio, its synthesis, what the brain
hears) is the pipeline's work; this class only decides when.
"""

from __future__ import annotations

import logging
from typing import Protocol

from switchboard.clock import Clock
from switchboard.tasks import Timer
from switchboard_dialer.media.barge_in import Verdict, has_words, judge
from switchboard_dialer.media.echo import TAIL_WORDS, PlayedText, caller_part

log = logging.getLogger(__name__)

# Where an utterance lies in the caller's audio: its start and end, ms of media time.
Span = tuple[int, int]

# A held turn resumes when no final transcript came this long after speech_ended
# (a recogniser that lost the utterance must not leave the bot mute).
TRANSCRIPT_WAIT_SEC = 3.0
# The caller's voice heard over the echo this recently holds the turn at speech_started
# (the recogniser announces speech some 250 ms after its onset).
OVER_ECHO_RECENT_SEC = 0.5
# Speech over the bot that held a turn and proved to have no words (a faint first echo
# the recogniser makes nothing of, or a cough): speech starting this soon after over
# the same turn waits for its words before it stops the bot (it is most likely the
# rest of that echo; pausing again would stutter).
UNCLEAR_AGAIN_SEC = 1.0


class Playback(Protocol):
    """What a barge-in stops and restarts: the call's playout."""

    def pause(self) -> None:
        """Stops before the next frame and drops what the carrier has queued."""

    def resume(self) -> None:
        """Plays on from where it stopped."""


class BargeIn:
    """Whether the caller is talking over a turn, and what becomes of that turn."""

    def __init__(self, call_id: str, playback: Playback, clock: Clock) -> None:
        self.call_id = call_id
        self._playback = playback
        self._clock = clock
        self._held: str | None = None
        self._suspect: str | None = None  # on an echoing line: playing, not paused
        self._onset_audible = False  # the bot was audible when the caller's speech began
        self._over_echo_at: float | None = None  # the caller's voice heard over the echo
        self._in_speech = False  # between speech_started and speech_ended
        # The turn a wordless utterance over it held, and when it resumed.
        self._unclear: tuple[str, float] | None = None
        self.played = PlayedText()
        self.echoing_line = False
        self.caller_said = ""  # the last final transcript without the bot's echo in front
        self._held_at = 0.0
        self._transcript_timer = Timer(
            f"call-{call_id}-transcript-wait", self._transcript_overdue, clock
        )
        self.barge_ins = 0
        self.resumes = 0
        self.echoes = 0

    @property
    def held_turn(self) -> str | None:
        """The turn stopped for the caller's speech, while its fate is open."""
        return self._held

    def speech_started(self, playing_turn: str | None) -> None:
        """The caller started to speak; a turn that is playing is held at once (on an
        echoing line: once words that are not echo are heard)."""
        self._onset_audible = self.played.bot_audible(self._clock.monotonic())
        self._in_speech = True
        if self._held is not None:
            # Still the utterance that stopped the bot (re-announced by a new Listen
            # stream) or the next one: its speech_ended arms the wait again.
            self._transcript_timer.disarm()
            return
        if playing_turn is None:
            return
        if self._unclear_again(playing_turn):
            self._suspect = playing_turn
            return
        if self.echoing_line:
            over_echo_at = self._over_echo_at
            now = self._clock.monotonic()
            if over_echo_at is None or now - over_echo_at > OVER_ECHO_RECENT_SEC:
                self._suspect = playing_turn
                return
        self._hold(playing_turn)

    def _unclear_again(self, playing_turn: str) -> bool:
        """Whether speech now over ``playing_turn`` follows a wordless utterance that
        held it (``UNCLEAR_AGAIN_SEC``)."""
        unclear, self._unclear = self._unclear, None
        if unclear is None or self.echoing_line:
            return False
        turn, resumed_at = unclear
        return turn == playing_turn and self._clock.monotonic() - resumed_at <= UNCLEAR_AGAIN_SEC

    def caller_over_echo(self, playing_turn: str) -> None:
        """The audio says the caller talks over the echo of ``playing_turn``
        (``double_talk``): the suspect turn is held now, not when the words come."""
        self._over_echo_at = self._clock.monotonic()
        # The utterance may have begun before the turn (the echo of the last one).
        if self._held is None and (self._suspect == playing_turn or self._in_speech):
            self._suspect = None
            self._hold(playing_turn)
            log.info("the caller's voice is above the echo", extra={"call_id": self.call_id})

    def partial_transcript(self, text: str, span: Span | None = None) -> None:
        """On an echoing line, the first words that are not echo hold the suspect turn
        (``span``: where the words lie in the caller's audio, see :meth:`final_transcript`)."""
        suspect = self._suspect
        if (
            suspect is not None
            and self._held is None
            and self._judge(text, span) is Verdict.INTERRUPT
        ):
            self._suspect = None
            self._hold(suspect)

    def turn_played(self, turn_id: str) -> None:
        """A turn played to its end: speech that began over it cannot interrupt it."""
        if self._suspect == turn_id:
            self._suspect = None

    def _hold(self, turn_id: str) -> None:
        self._held = turn_id
        self._held_at = self._clock.monotonic()
        self._playback.pause()
        self.played.stopped(self._held_at)
        self.barge_ins += 1
        log.info("bot paused: the caller speaks", extra={"call_id": self.call_id})

    def _played_for(self, span: Span | None) -> tuple[str, int | None]:
        """The bot's words ``span`` of the caller's audio may echo, and how many of the
        last of them a short utterance is judged against (None: all)."""
        if span is not None:
            return self.played.during(*span), None
        return self.played.recent(self._clock.monotonic()), TAIL_WORDS

    def _judge(self, text: str, span: Span | None) -> Verdict:
        return judge(text, *self._played_for(span))

    def speech_ended(self) -> None:
        """The caller stopped; a held turn waits a bounded time for the transcript."""
        self._in_speech = False
        if self._held is not None:
            self._transcript_timer.arm(TRANSCRIPT_WAIT_SEC)

    def final_transcript(
        self, text: str, span: Span | None = None
    ) -> tuple[Verdict, str | None] | None:
        """Decides a held (or suspect) turn's fate from the caller's words
        (``caller_said``: the words without the bot's echo in front of them).

        ``span``: where the utterance lies in the caller's audio, from its start to its
        end in ms of the call's media time (the time stamps of ``PlayedText.frame_played``),
        or None when the recogniser did not say: the words are then compared with what
        the bot played lately (``echo``).

        None: no turn was held and the words are not echo (an ordinary caller turn).
        Otherwise the verdict and the turn (None: echo while no turn was held; the
        words are dropped): a ``RESUME_*`` verdict has resumed playback; on
        ``INTERRUPT`` the caller of this method cancels the turn, then resumes.
        """
        onset_audible, self._onset_audible = self._onset_audible, False
        audible = onset_audible or self._held is not None or self._suspect is not None
        played, tail = self._played_for(span)
        if span is None and not audible:
            played = ""
        self.caller_said = caller_part(text, played, tail) if played else text
        held = self._held
        suspect, self._suspect = self._suspect, None
        if held is None:
            if suspect is not None:
                verdict = self._echo_checked(judge(text, played, tail))
                if verdict is Verdict.INTERRUPT:
                    self._hold(suspect)  # stops the bot and clears the carrier's queue
                    self._held = None
                return verdict, suspect
            if has_words(text) and not has_words(self.caller_said):
                return self._echo_checked(Verdict.RESUME_ECHO), None
            return None
        verdict = self._echo_checked(judge(text, played, tail))
        if verdict is Verdict.INTERRUPT:
            self._held = None
            self._transcript_timer.disarm()
        else:
            self._resume(verdict.value)
            if verdict is Verdict.RESUME_FALSE and onset_audible:
                self._unclear = (held, self._clock.monotonic())
        return verdict, held

    def _echo_checked(self, verdict: Verdict) -> Verdict:
        if verdict is Verdict.RESUME_ECHO:
            self.echoes += 1
            if not self.echoing_line:
                self.echoing_line = True
                log.info("the caller's line echoes the bot", extra={"call_id": self.call_id})
        return verdict

    def listen_reopened(self) -> None:
        """A new Listen stream hears the caller's audio again from the last final
        transcript: a held turn waits for it to re-announce the utterance, and plays
        on if it does not within ``TRANSCRIPT_WAIT_SEC`` (the audio was lost)."""
        if self._held is not None:
            self._transcript_timer.arm(TRANSCRIPT_WAIT_SEC)

    async def close(self) -> None:
        await self._transcript_timer.close()

    def _transcript_overdue(self) -> None:
        if self._held is not None:
            self._resume("no_transcript")

    def _resume(self, why: str) -> None:
        self._held = None
        self._transcript_timer.disarm()
        self._playback.resume()
        self.played.resumed()
        self.resumes += 1
        log.info(
            "bot resumes where it stopped",
            extra={
                "call_id": self.call_id,
                "why": why,
                "paused_ms": round((self._clock.monotonic() - self._held_at) * 1000),
            },
        )
