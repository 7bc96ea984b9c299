"""Voicemail: which calls are screened for answering machines, and what is left on one.

An outbound voice call is screened (:class:`AnswerScreen`) unless
``dialer.voicemail.enabled`` is false; inbound calls never are (the caller is there).
On a machine the bot leaves ``dialer.voicemail.message`` after the beep and hangs up;
the call ends with reason ``voicemail``, which the post-call report turns into the
next action "call again". The transcript keeps how the answer was judged (a tool
line, as for the carrier's own detection) and the message left.
"""

from __future__ import annotations

from switchboard import domain
from switchboard.config import VoicemailSettings
from switchboard_dialer.media.answer_screen import AnswerScreen, ScreenRules, sounds_like_voicemail

__all__ = [
    "ANSWERED_BY",
    "VOICEMAIL",
    "answered_by_line",
    "is_screened",
    "message_left_line",
    "screen_for",
    "sounds_like_voicemail",
    "spoken_number",
    "voicemail_message",
]

VOICEMAIL = domain.VOICEMAIL_REASON
# How an answering-machine result reads in the transcript (carrier's or our own).
ANSWERED_BY = "answered_by: "

_DIGIT_WORDS = "0123456789"


def screen_for(
    call: domain.Call, settings: VoicemailSettings, sample_rate: int
) -> AnswerScreen | None:
    """The answer screen of a call, or None when it plays its greeting at once."""
    if not is_screened(call, settings):
        return None
    rules = ScreenRules(
        silence_human_ms=settings.silence_human_ms,
        greeting_machine_ms=settings.greeting_machine_ms,
        human_silence_ms=settings.human_silence_ms,
        transcript_wait_ms=settings.transcript_wait_ms,
        no_beep_silence_ms=settings.no_beep_silence_ms,
        max_wait_ms=settings.max_wait_ms,
    )
    return AnswerScreen(sample_rate, rules)


def is_screened(call: domain.Call, settings: VoicemailSettings) -> bool:
    """Whether a text line's first words are checked for a voicemail greeting."""
    return settings.enabled and call.direction is domain.CallDirection.OUTBOUND


def spoken_number(e164: str) -> str:
    """A number as a voice reads it out: "+14155550199" → "4 1 5, 5 5 5, 0 1 9 9"."""
    digits = [c for c in e164 if c in _DIGIT_WORDS]
    if len(digits) == 11 and digits[0] == "1":  # North American: area, exchange, line
        digits = digits[1:]
    groups: list[list[str]] = []
    while len(digits) > 4:
        groups.append(digits[:3])
        digits = digits[3:]
    groups.append(digits)
    return ", ".join(" ".join(group) for group in groups if group)


def voicemail_message(request: domain.CallRequest, settings: VoicemailSettings) -> str:
    """The message left on the machine, from the configured template."""
    number = settings.callback_number or request.agent_phone_number
    template = settings.message if number else settings.message_without_number
    return template.format(
        bot_name=request.bot_name,
        bot_company=request.bot_company,
        callback_number=spoken_number(number) if number else "",
    )


def answered_by_line(verdict: str) -> domain.Message:
    """The transcript's record of an answering-machine result (carrier's or ours)."""
    return domain.Message(
        persona=domain.Persona.TOOL,
        action=domain.MessageAction.CALL,
        content=f"{ANSWERED_BY}{verdict}",
    )


def message_left_line(text: str) -> domain.Message:
    """The transcript's record of the message the bot left."""
    return domain.Message(
        persona=domain.Persona.ASSISTANT, action=domain.MessageAction.TALK, content=text
    )
