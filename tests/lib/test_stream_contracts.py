"""Every ``oneof`` case of every stream message survives domain → proto → domain.

Each contract lists one example per case; a case added to a proto without an
example here fails :func:`test_every_oneof_case_has_an_example`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from google.protobuf.message import Message

from switchboard import converse, converse_wire, phone, phone_wire, speech, speech_wire
from switchboard.domain import ClaimFieldType
from switchboard.media import AudioFrame, Dtmf, ExpectedAnswer
from switchboard.v1 import brain_pb2, dialer_pb2, speech_pb2

FRAME = AudioFrame(b"\x01\x00" * 160, seq=7, timestamp_ms=140, sample_rate=8000, call_id="c1")


@dataclass(frozen=True)
class Contract:
    """One direction of one stream: its proto message and its two converters."""

    name: str
    message: type[Message]
    to_pb: Callable[[Any], Message]
    from_pb: Callable[[Any], Any]
    examples: dict[str, Any]  # oneof case → a domain value of that case


CONTRACTS = [
    Contract(
        "Converse request",
        brain_pb2.ConverseRequest,
        converse_wire.request_to_pb,
        converse_wire.request_from_pb,
        {
            "start": converse.ConversationStart("call-1", reconnect=True, sends_dtmf=True),
            "user_turn": converse.UserTurn("t1", "my car was hit", confidence=0.5, lang="fr-FR"),
            "heard": converse.PlayoutReport("t0", "Hello, this", interrupted=True),
            "dtmf": converse.Dtmf("42#"),
            "silence": converse.SilenceTimeout(2),
            "hangup": converse.CallerHangup("caller_hangup"),
            "cancel": converse.CancelAgentTurn("t0"),
            "time_up": converse.CallTimeUp("drained"),
        },
    ),
    Contract(
        "Converse response",
        brain_pb2.ConverseResponse,
        converse_wire.response_to_pb,
        converse_wire.response_from_pb,
        {
            "sentence": converse.AgentSentence("t1", 2, "One moment.", filler=True),
            "turn_done": converse.AgentTurnDone("t1"),
            "transfer": converse.AgentTransfer("t1", "+14155550100"),
            "end_call": converse.EndCallRequest("t1", "caller_goodbye"),
            "sms": converse.SmsRequest("+14155550100", "Your claim number is 7.", "t1"),
            "speech_settings": converse.SpeechSettings("fr-FR", 1.25),
            "expect_answer": converse.ExpectAnswer(
                "t1", converse.ExpectedAnswer(ClaimFieldType.PHONE_NUMBER, "GB")
            ),
            "send_dtmf": converse.AgentSendDtmf("t1", "1*#"),
        },
    ),
    Contract(
        "Listen request",
        speech_pb2.ListenRequest,
        speech_wire.listen_request_to_pb,
        speech_wire.listen_request_from_pb,
        {
            "config": speech.ListenConfig("c1", 8000, "en-US", 5),
            "audio": FRAME,
            "settings": speech.ListenSettings("fr-FR"),
            "expecting": ExpectedAnswer(ClaimFieldType.EMAIL, "US"),
        },
    ),
    Contract(
        "Listen response",
        speech_pb2.ListenResponse,
        speech_wire.listen_response_to_pb,
        speech_wire.listen_response_from_pb,
        {
            "speech_started": speech.SpeechStarted(260),
            "speech_ended": speech.SpeechEnded(1900),
            "transcript": speech.Transcript("my car was hit", True, 0.5, "en-US", 260, 1900),
        },
    ),
    Contract(
        "Speak request",
        speech_pb2.SpeakRequest,
        speech_wire.speak_request_to_pb,
        speech_wire.speak_request_from_pb,
        {
            "config": speech.SpeakConfig("c1", 16000, "amy", "en-US", 1.25, 10),
            "text": speech.SpeakText("t1", 2, "Anything else?"),
            "cancel": speech.CancelTurn("t1"),
            "settings": speech.SpeakSettings(lang="fr-FR", prosody_rate=0.75),
        },
    ),
    Contract(
        "Speak response",
        speech_pb2.SpeakResponse,
        speech_wire.speak_response_to_pb,
        speech_wire.speak_response_from_pb,
        {
            "audio": speech.SpeechAudio("t1", 2, FRAME),
            "done": speech.SpeechTextDone("t1", 2),
        },
    ),
    Contract(
        "Phone uplink",
        dialer_pb2.PhoneUplink,
        phone_wire.uplink_to_pb,
        phone_wire.uplink_from_pb,
        {
            "register": phone.PhoneRegister("+14155550100", phone.PhoneMode.VOICE, 16000, True, 8),
            "answer": phone.PhoneAnswer("c1"),
            "say": phone.PhoneSay("my car was hit"),
            "audio": FRAME,
            "dtmf": Dtmf("42#"),
            "hang_up": phone.PhoneHangUp("caller_hangup"),
            "dial": phone.PhoneCall("+18005550100"),
            "attach": phone.PhoneAttach("acs", "call-1", "0123abcd", 16000),
        },
    ),
    Contract(
        "Phone downlink",
        dialer_pb2.PhoneDownlink,
        phone_wire.downlink_to_pb,
        phone_wire.downlink_from_pb,
        {
            "registered": phone.PhoneRegistered("+14155550100"),
            "ringing": phone.PhoneRinging("c1", "+18005550100"),
            "bot_said": phone.BotSaid("t1", "Hello."),
            "bot_turn_done": phone.BotTurnDone("t1"),
            "sentence_played": phone.BotSentencePlayed("t1", 2),
            "bot_dtmf": phone.BotDtmf("2#"),
            "audio": FRAME,
            "clear_audio": phone.ClearAudio(),
            "ended": phone.PhoneCallEnded("caller_hangup"),
            "transferred": phone.PhoneTransferred("+14155550199"),
            "connected": phone.PhoneConnected("c1"),
        },
    ),
]

CASES = [
    pytest.param(contract, case, id=f"{contract.name}: {case}")
    for contract in CONTRACTS
    for case in contract.examples
]


@pytest.mark.parametrize(("contract", "case"), CASES)
def test_a_domain_event_survives_the_wire_unchanged(contract: Contract, case: str) -> None:
    value = contract.examples[case]
    wire = contract.to_pb(value)
    assert wire.WhichOneof(_oneof(contract.message)) == case
    again = contract.from_pb(contract.message.FromString(wire.SerializeToString()))
    assert again == value


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: c.name)
def test_every_oneof_case_has_an_example(contract: Contract) -> None:
    descriptor = contract.message.DESCRIPTOR
    cases = {f.name for f in descriptor.oneofs_by_name[_oneof(contract.message)].fields}
    assert set(contract.examples) == cases


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: c.name)
def test_an_empty_message_reads_as_nothing(contract: Contract) -> None:
    assert contract.from_pb(contract.message()) is None


def _oneof(message: type[Message]) -> str:
    (oneof,) = message.DESCRIPTOR.oneofs
    return str(oneof.name)


def test_an_expectation_of_nothing_in_particular_survives_the_wire() -> None:
    cleared = ExpectedAnswer(None, "US")
    wire = speech_wire.listen_request_to_pb(cleared)
    assert wire.expecting.type == 0  # CLAIM_FIELD_TYPE_UNSPECIFIED
    assert speech_wire.listen_request_from_pb(wire) == cleared


def test_a_newer_peers_unknown_field_type_reads_as_no_expectation() -> None:
    wire = speech_pb2.ListenRequest()
    wire.expecting.type = 99  # type: ignore[assignment]  # a type this version lacks
    wire.expecting.region = "US"
    assert speech_wire.listen_request_from_pb(wire) == ExpectedAnswer(None, "US")


def test_a_keypad_turn_stays_a_keypad_turn_on_the_wire() -> None:
    typed = converse.UserTurn("t2", "0612345678", keypad=True)
    wire = converse_wire.request_to_pb(typed)
    assert wire.user_turn.keypad
    assert converse_wire.request_from_pb(wire) == typed
