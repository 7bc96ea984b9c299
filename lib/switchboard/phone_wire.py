"""The one converter each way between :mod:`switchboard.phone` and ``dialer_pb2``'s
``PhoneUplink``/``PhoneDownlink``. Used by the dialer's servicer and by the
gateway's softphone link. A message whose ``oneof`` is empty (or of a kind this
version does not know) converts to None."""

from __future__ import annotations

from switchboard.errors import InvalidArgument
from switchboard.media import AudioFrame, Dtmf
from switchboard.media_wire import dtmf_from_pb, dtmf_to_pb, frame_from_pb, frame_to_pb
from switchboard.phone import (
    BotDtmf,
    BotSaid,
    BotSentencePlayed,
    BotTurnDone,
    ClearAudio,
    PhoneAnswer,
    PhoneAttach,
    PhoneCall,
    PhoneCallEnded,
    PhoneConnected,
    PhoneDownlink,
    PhoneHangUp,
    PhoneMode,
    PhoneRegister,
    PhoneRegistered,
    PhoneRinging,
    PhoneSay,
    PhoneTransferred,
    PhoneUplink,
)
from switchboard.v1 import dialer_pb2

_MODES = {PhoneMode.TEXT: dialer_pb2.PHONE_MODE_TEXT, PhoneMode.VOICE: dialer_pb2.PHONE_MODE_VOICE}
_MODES_BACK = {v: k for k, v in _MODES.items()}


def uplink_to_pb(event: PhoneUplink) -> dialer_pb2.PhoneUplink:
    match event:
        case AudioFrame():  # first: one of these every 20 ms
            return dialer_pb2.PhoneUplink(audio=frame_to_pb(event))
        case PhoneRegister():
            return dialer_pb2.PhoneUplink(
                register=dialer_pb2.PhoneRegister(
                    number=event.number,
                    mode=_MODES[event.mode],
                    sample_rate=event.sample_rate,
                    auto_answer=event.auto_answer,
                    speed=event.speed,
                )
            )
        case PhoneAttach():
            return dialer_pb2.PhoneUplink(
                attach=dialer_pb2.PhoneAttach(
                    provider=event.provider,
                    call_id=event.call_id,
                    token=event.token,
                    sample_rate=event.sample_rate,
                )
            )
        case PhoneAnswer(call_id=call_id):
            return dialer_pb2.PhoneUplink(answer=dialer_pb2.PhoneAnswer(call_id=call_id))
        case PhoneSay(text=text):
            return dialer_pb2.PhoneUplink(say=dialer_pb2.PhoneSay(text=text))
        case Dtmf():
            return dialer_pb2.PhoneUplink(dtmf=dtmf_to_pb(event))
        case PhoneHangUp(reason=reason):
            return dialer_pb2.PhoneUplink(hang_up=dialer_pb2.PhoneHangUp(reason=reason))
        case PhoneCall(to_number=to_number):
            return dialer_pb2.PhoneUplink(dial=dialer_pb2.PhoneCall(to_number=to_number))
    raise TypeError(f"unknown phone uplink event {type(event).__name__}")


def uplink_from_pb(msg: dialer_pb2.PhoneUplink) -> PhoneUplink | None:
    """The domain event; ``InvalidArgument`` for a registration without a mode."""
    match msg.WhichOneof("event"):
        case "audio":
            return frame_from_pb(msg.audio)
        case "register":
            r = msg.register
            mode = _MODES_BACK.get(r.mode)
            if mode is None:
                raise InvalidArgument("register.mode must be PHONE_MODE_TEXT or PHONE_MODE_VOICE")
            return PhoneRegister(r.number, mode, r.sample_rate, r.auto_answer, r.speed or 1.0)
        case "attach":
            a = msg.attach
            return PhoneAttach(a.provider, a.call_id, a.token, a.sample_rate)
        case "answer":
            return PhoneAnswer(msg.answer.call_id)
        case "say":
            return PhoneSay(msg.say.text)
        case "dtmf":
            return dtmf_from_pb(msg.dtmf)
        case "hang_up":
            return PhoneHangUp(msg.hang_up.reason)
        case "dial":
            return PhoneCall(msg.dial.to_number)
    return None


_CLEAR = dialer_pb2.PhoneDownlink(clear_audio=dialer_pb2.ClearAudio())


def downlink_to_pb(event: PhoneDownlink) -> dialer_pb2.PhoneDownlink:
    match event:
        case AudioFrame():  # first: one of these every 20 ms
            return dialer_pb2.PhoneDownlink(audio=frame_to_pb(event))
        case ClearAudio():
            return _CLEAR
        case PhoneRegistered(number=number):
            return dialer_pb2.PhoneDownlink(registered=dialer_pb2.PhoneRegistered(number=number))
        case PhoneRinging(call_id=call_id, from_number=from_number):
            return dialer_pb2.PhoneDownlink(
                ringing=dialer_pb2.PhoneRinging(call_id=call_id, from_number=from_number)
            )
        case PhoneConnected(call_id=call_id):
            return dialer_pb2.PhoneDownlink(connected=dialer_pb2.PhoneConnected(call_id=call_id))
        case BotSaid(turn_id=turn_id, text=text):
            return dialer_pb2.PhoneDownlink(bot_said=dialer_pb2.BotSaid(turn_id=turn_id, text=text))
        case BotTurnDone(turn_id=turn_id):
            return dialer_pb2.PhoneDownlink(bot_turn_done=dialer_pb2.BotTurnDone(turn_id=turn_id))
        case BotSentencePlayed(turn_id=turn_id, index=index):
            return dialer_pb2.PhoneDownlink(
                sentence_played=dialer_pb2.BotSentencePlayed(turn_id=turn_id, index=index)
            )
        case BotDtmf(digits=digits):
            return dialer_pb2.PhoneDownlink(bot_dtmf=dtmf_to_pb(Dtmf(digits)))
        case PhoneCallEnded(reason=reason):
            return dialer_pb2.PhoneDownlink(ended=dialer_pb2.PhoneCallEnded(reason=reason))
        case PhoneTransferred(target=target):
            return dialer_pb2.PhoneDownlink(transferred=dialer_pb2.PhoneTransferred(target=target))
    raise TypeError(f"unknown phone downlink event {type(event).__name__}")


def downlink_from_pb(msg: dialer_pb2.PhoneDownlink) -> PhoneDownlink | None:
    match msg.WhichOneof("event"):
        case "audio":
            return frame_from_pb(msg.audio)
        case "clear_audio":
            return ClearAudio()
        case "registered":
            return PhoneRegistered(msg.registered.number)
        case "ringing":
            return PhoneRinging(msg.ringing.call_id, msg.ringing.from_number)
        case "connected":
            return PhoneConnected(msg.connected.call_id)
        case "bot_said":
            return BotSaid(msg.bot_said.turn_id, msg.bot_said.text)
        case "bot_turn_done":
            return BotTurnDone(msg.bot_turn_done.turn_id)
        case "sentence_played":
            return BotSentencePlayed(msg.sentence_played.turn_id, msg.sentence_played.index)
        case "bot_dtmf":
            return BotDtmf(msg.bot_dtmf.digits)
        case "ended":
            return PhoneCallEnded(msg.ended.reason)
        case "transferred":
            return PhoneTransferred(msg.transferred.target)
    return None
