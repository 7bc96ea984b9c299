"""``Dialer.Phone`` messages ↔ the virtual phone protocol's domain types (edge only)."""

from __future__ import annotations

from switchboard.errors import InvalidArgument
from switchboard.v1 import common_pb2, dialer_pb2
from switchboard_dialer.telephony.phone_events import (
    BotFrame,
    BotSaid,
    BotTurnDone,
    ClearAudio,
    Connected,
    Ended,
    PhoneAnswer,
    PhoneAudio,
    PhoneDial,
    PhoneDownlinkEvent,
    PhoneDtmf,
    PhoneHangUp,
    PhoneMode,
    PhoneRegistration,
    PhoneSay,
    PhoneUplinkEvent,
    Registered,
    Ringing,
    Transferred,
)

_MODES = {dialer_pb2.PHONE_MODE_TEXT: PhoneMode.TEXT, dialer_pb2.PHONE_MODE_VOICE: PhoneMode.VOICE}
_UPLINK_KINDS = "register, answer, say, audio, dtmf, hang_up or dial"


def uplink_from_pb(msg: dialer_pb2.PhoneUplink) -> PhoneUplinkEvent:
    """The domain event of one uplink message; ``InvalidArgument`` says what is wrong."""
    kind = msg.WhichOneof("event")
    if kind == "register":
        mode = _MODES.get(msg.register.mode)
        if mode is None:
            raise InvalidArgument("register.mode must be PHONE_MODE_TEXT or PHONE_MODE_VOICE")
        return PhoneRegistration(
            number=msg.register.number,
            mode=mode,
            sample_rate=msg.register.sample_rate,
            auto_answer=msg.register.auto_answer,
            speed=msg.register.speed or 1.0,
        )
    if kind == "answer":
        return PhoneAnswer(call_id=msg.answer.call_id)
    if kind == "say":
        return PhoneSay(text=msg.say.text)
    if kind == "audio":
        return PhoneAudio(pcm=msg.audio.pcm)
    if kind == "dtmf":
        return PhoneDtmf(digits=msg.dtmf.digits)
    if kind == "hang_up":
        return PhoneHangUp(reason=msg.hang_up.reason)
    if kind == "dial":
        return PhoneDial(to_number=msg.dial.to_number)
    raise InvalidArgument(f"an uplink message must carry one of {_UPLINK_KINDS}")


_CLEAR = dialer_pb2.PhoneDownlink(clear_audio=dialer_pb2.ClearAudio())


def downlink_to_pb(event: PhoneDownlinkEvent) -> dialer_pb2.PhoneDownlink:
    if isinstance(event, BotFrame):  # first: one of these every 20 ms
        return dialer_pb2.PhoneDownlink(
            audio=common_pb2.AudioFrame(
                call_id=event.call_id,
                seq=event.seq,
                timestamp_ms=event.seq * 20,
                sample_rate=event.sample_rate,
                pcm=event.pcm,
            )
        )
    match event:
        case ClearAudio():
            return _CLEAR
        case Registered(number=number):
            return dialer_pb2.PhoneDownlink(registered=dialer_pb2.PhoneRegistered(number=number))
        case Ringing(call_id=call_id, from_number=from_number):
            return dialer_pb2.PhoneDownlink(
                ringing=dialer_pb2.PhoneRinging(call_id=call_id, from_number=from_number)
            )
        case Connected(call_id=call_id):
            return dialer_pb2.PhoneDownlink(connected=dialer_pb2.PhoneConnected(call_id=call_id))
        case BotSaid(turn_id=turn_id, text=text):
            return dialer_pb2.PhoneDownlink(bot_said=dialer_pb2.BotSaid(turn_id=turn_id, text=text))
        case BotTurnDone(turn_id=turn_id):
            return dialer_pb2.PhoneDownlink(bot_turn_done=dialer_pb2.BotTurnDone(turn_id=turn_id))
        case Ended(reason=reason):
            return dialer_pb2.PhoneDownlink(ended=dialer_pb2.PhoneCallEnded(reason=reason))
        case Transferred(target=target):
            return dialer_pb2.PhoneDownlink(transferred=dialer_pb2.PhoneTransferred(target=target))
    raise AssertionError(f"unhandled downlink event {event!r}")
