"""The one converter each way between :mod:`switchboard.speech` and ``speech_pb2``.

Used by the speech service's servicer and by :class:`switchboard.speech_client.SpeechClient`.
A message whose ``oneof`` is empty (or of a kind this version does not know)
converts to None.
"""

from __future__ import annotations

from switchboard.media import AudioFrame, ExpectedAnswer
from switchboard.media_wire import expected_from_pb, expected_to_pb, frame_from_pb, frame_to_pb
from switchboard.speech import (
    CancelTurn,
    ListenConfig,
    ListenRequest,
    ListenResponse,
    ListenSettings,
    SpeakConfig,
    SpeakRequest,
    SpeakResponse,
    SpeakSettings,
    SpeakText,
    SpeechAudio,
    SpeechEnded,
    SpeechStarted,
    SpeechTextDone,
    Transcript,
)
from switchboard.v1 import speech_pb2

# Listen.


def listen_request_to_pb(request: ListenRequest) -> speech_pb2.ListenRequest:
    match request:
        case AudioFrame():  # first: one of these every 20 ms
            return speech_pb2.ListenRequest(audio=frame_to_pb(request))
        case ListenConfig():
            return speech_pb2.ListenRequest(
                config=speech_pb2.ListenConfig(
                    call_id=request.call_id,
                    sample_rate=request.sample_rate,
                    lang=request.lang,
                    frames_per_message=request.frames_per_message,
                )
            )
        case ListenSettings(lang=lang):
            return speech_pb2.ListenRequest(settings=speech_pb2.ListenSettings(lang=lang))
        case ExpectedAnswer():
            return speech_pb2.ListenRequest(expecting=expected_to_pb(request))
    raise TypeError(f"unknown Listen request {type(request).__name__}")


def listen_request_from_pb(msg: speech_pb2.ListenRequest) -> ListenRequest | None:
    match msg.WhichOneof("event"):
        case "audio":
            return frame_from_pb(msg.audio)
        case "config":
            c = msg.config
            return ListenConfig(c.call_id, c.sample_rate, c.lang, c.frames_per_message)
        case "settings":
            return ListenSettings(msg.settings.lang)
        case "expecting":
            return expected_from_pb(msg.expecting)
    return None


def listen_response_to_pb(event: ListenResponse) -> speech_pb2.ListenResponse:
    match event:
        case SpeechStarted(offset_ms=offset):
            return speech_pb2.ListenResponse(
                speech_started=speech_pb2.SpeechStarted(offset_ms=offset)
            )
        case SpeechEnded(offset_ms=offset):
            return speech_pb2.ListenResponse(speech_ended=speech_pb2.SpeechEnded(offset_ms=offset))
        case Transcript():
            return speech_pb2.ListenResponse(
                transcript=speech_pb2.Transcript(
                    text=event.text,
                    is_final=event.is_final,
                    confidence=event.confidence,
                    lang=event.lang,
                    start_ms=event.start_ms,
                    end_ms=event.end_ms,
                )
            )
    raise TypeError(f"unknown Listen response {type(event).__name__}")


def listen_response_from_pb(msg: speech_pb2.ListenResponse) -> ListenResponse | None:
    match msg.WhichOneof("event"):
        case "speech_started":
            return SpeechStarted(msg.speech_started.offset_ms)
        case "speech_ended":
            return SpeechEnded(msg.speech_ended.offset_ms)
        case "transcript":
            t = msg.transcript
            return Transcript(t.text, t.is_final, t.confidence, t.lang, t.start_ms, t.end_ms)
    return None


# Speak.


def _config_to_pb(config: SpeakConfig) -> speech_pb2.SpeakConfig:
    return speech_pb2.SpeakConfig(
        call_id=config.call_id,
        sample_rate=config.sample_rate,
        voice=config.voice,
        lang=config.lang,
        prosody_rate=config.prosody_rate,
        frames_per_message=config.frames_per_message,
    )


def speak_request_to_pb(request: SpeakRequest) -> speech_pb2.SpeakRequest:
    match request:
        case SpeakText(turn_id=turn_id, index=index, text=text):
            return speech_pb2.SpeakRequest(
                text=speech_pb2.SpeakText(turn_id=turn_id, index=index, text=text)
            )
        case CancelTurn(turn_id=turn_id):
            return speech_pb2.SpeakRequest(cancel=speech_pb2.CancelTurn(turn_id=turn_id))
        case SpeakSettings():  # before SpeakConfig: a SpeakSettings is one
            return speech_pb2.SpeakRequest(settings=_config_to_pb(request))
        case SpeakConfig():
            return speech_pb2.SpeakRequest(config=_config_to_pb(request))
    raise TypeError(f"unknown Speak request {type(request).__name__}")


def speak_request_from_pb(msg: speech_pb2.SpeakRequest) -> SpeakRequest | None:
    match msg.WhichOneof("event"):
        case "text":
            t = msg.text
            return SpeakText(t.turn_id, t.index, t.text)
        case "cancel":
            return CancelTurn(msg.cancel.turn_id)
        case "config":
            c = msg.config
            return SpeakConfig(
                c.call_id, c.sample_rate, c.voice, c.lang, c.prosody_rate, c.frames_per_message
            )
        case "settings":
            c = msg.settings
            return SpeakSettings(c.call_id, c.sample_rate, c.voice, c.lang, c.prosody_rate)
    return None


def speak_response_to_pb(event: SpeakResponse) -> speech_pb2.SpeakResponse:
    match event:
        case SpeechAudio(turn_id=turn_id, index=index, frame=frame):  # first: every 20 ms
            return speech_pb2.SpeakResponse(
                audio=speech_pb2.SpeechAudio(turn_id=turn_id, index=index, frame=frame_to_pb(frame))
            )
        case SpeechTextDone(turn_id=turn_id, index=index):
            return speech_pb2.SpeakResponse(
                done=speech_pb2.SpeechTextDone(turn_id=turn_id, index=index)
            )
    raise TypeError(f"unknown Speak response {type(event).__name__}")


def speak_response_from_pb(msg: speech_pb2.SpeakResponse) -> SpeakResponse | None:
    match msg.WhichOneof("event"):
        case "audio":
            a = msg.audio
            return SpeechAudio(a.turn_id, a.index, frame_from_pb(a.frame))
        case "done":
            return SpeechTextDone(msg.done.turn_id, msg.done.index)
    return None
