"""The one converter each way for :mod:`switchboard.media` (``common.proto`` stream types)."""

from __future__ import annotations

from switchboard.convert import field_type_from_pb, field_type_to_pb
from switchboard.media import AudioFrame, Dtmf, ExpectedAnswer
from switchboard.v1 import common_pb2


def frame_to_pb(frame: AudioFrame) -> common_pb2.AudioFrame:
    return common_pb2.AudioFrame(
        call_id=frame.call_id,
        seq=frame.seq,
        timestamp_ms=frame.timestamp_ms,
        sample_rate=frame.sample_rate,
        pcm=frame.pcm,
    )


def frame_from_pb(msg: common_pb2.AudioFrame) -> AudioFrame:
    return AudioFrame(msg.pcm, msg.seq, msg.timestamp_ms, msg.sample_rate, msg.call_id)


def dtmf_to_pb(dtmf: Dtmf) -> common_pb2.Dtmf:
    return common_pb2.Dtmf(digits=dtmf.digits)


def dtmf_from_pb(msg: common_pb2.Dtmf) -> Dtmf:
    return Dtmf(msg.digits)


def expected_to_pb(answer: ExpectedAnswer) -> common_pb2.ExpectedAnswer:
    msg = common_pb2.ExpectedAnswer(region=answer.region)
    if answer.type is not None:
        msg.type = field_type_to_pb(answer.type)
    return msg


def expected_from_pb(msg: common_pb2.ExpectedAnswer) -> ExpectedAnswer:
    """An unspecified (or unknown, newer) type expects nothing in particular."""
    try:
        kind = field_type_from_pb(msg.type) if msg.type else None
    except ValueError:
        kind = None
    return ExpectedAnswer(kind, msg.region)
