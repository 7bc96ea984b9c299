"""Protobuf ↔ domain types of the speech service. Only the servicer uses this."""

from __future__ import annotations

from switchboard.errors import InvalidArgument
from switchboard.v1 import common_pb2, speech_pb2
from switchboard_speech.audio import check_sample_rate
from switchboard_speech.model import (
    DEFAULT_LANG,
    AudioOut,
    ListenConfig,
    ListenEvent,
    SpeakConfig,
    SpeakEvent,
    SpeakText,
    SpeechEnded,
    SpeechStarted,
    TextDone,
    Voice,
)


def listen_config(request: speech_pb2.ListenRequest | None) -> ListenConfig:
    if request is None or request.WhichOneof("event") != "config":
        raise InvalidArgument(
            "the first ListenRequest must be `config` (call_id, sample_rate, lang)"
        )
    config = request.config
    return ListenConfig(
        call_id=config.call_id,
        sample_rate=check_sample_rate(config.sample_rate),
        lang=config.lang or DEFAULT_LANG,
    )


def speak_config(config: speech_pb2.SpeakConfig) -> SpeakConfig:
    return SpeakConfig(
        call_id=config.call_id,
        sample_rate=config.sample_rate,
        voice=Voice(name=config.voice, lang=config.lang, rate=config.prosody_rate),
    )


def first_speak_config(request: speech_pb2.SpeakRequest | None) -> SpeakConfig:
    if request is None or request.WhichOneof("event") != "config":
        raise InvalidArgument(
            "the first SpeakRequest must be `config` (call_id, sample_rate, voice, lang, "
            "prosody_rate)"
        )
    config = speak_config(request.config)
    check_sample_rate(config.sample_rate)
    return config


def speak_text(text: speech_pb2.SpeakText) -> SpeakText:
    return SpeakText(turn_id=text.turn_id, index=text.index, text=text.text)


def listen_event(event: ListenEvent) -> speech_pb2.ListenResponse:
    if isinstance(event, SpeechStarted):
        return speech_pb2.ListenResponse(
            speech_started=speech_pb2.SpeechStarted(offset_ms=event.offset_ms)
        )
    if isinstance(event, SpeechEnded):
        return speech_pb2.ListenResponse(
            speech_ended=speech_pb2.SpeechEnded(offset_ms=event.offset_ms)
        )
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


def speak_event(event: SpeakEvent, call_id: str, sample_rate: int) -> speech_pb2.SpeakResponse:
    if isinstance(event, TextDone):
        return speech_pb2.SpeakResponse(
            done=speech_pb2.SpeechTextDone(turn_id=event.turn_id, index=event.index)
        )
    assert isinstance(event, AudioOut)
    return speech_pb2.SpeakResponse(
        audio=speech_pb2.SpeechAudio(
            turn_id=event.turn_id,
            index=event.index,
            frame=common_pb2.AudioFrame(
                call_id=call_id,
                seq=event.seq,
                timestamp_ms=event.timestamp_ms,
                sample_rate=sample_rate,
                pcm=event.pcm,
            ),
        )
    )
