"""ACS callback and Event Grid payloads, as the acs provider reads them."""

from __future__ import annotations

import json

import pytest

from switchboard.errors import InvalidArgument
from switchboard_dialer.telephony.acs.events import (
    CallEvent,
    IncomingCall,
    parse_callbacks,
    parse_incoming,
)


def test_callbacks_are_cloud_events_named_without_their_prefix() -> None:
    body = json.dumps(
        [
            {
                "id": "e1",
                "type": "Microsoft.Communication.CallTransferFailed",
                "data": {"callConnectionId": "c1", "operationContext": "transfer-1"},
            },
            {"id": "e2", "type": "Something.Else", "data": {}},
            {"type": "Microsoft.Communication.CallConnected", "data": {}},  # no id: skipped
        ]
    ).encode()
    assert parse_callbacks(body) == [CallEvent("e1", "CallTransferFailed", "c1", "transfer-1")]


def test_an_incoming_call_gives_the_numbers_and_its_context() -> None:
    body = json.dumps(
        [
            {
                "id": "g1",
                "eventType": "Microsoft.Communication.IncomingCall",
                "data": {
                    "from": {"phoneNumber": {"value": "+14155550123"}},
                    "to": {"rawId": "4:+18005550100"},
                    "incomingCallContext": "ctx",
                },
            }
        ]
    ).encode()
    assert parse_incoming(body) == [IncomingCall("g1", "+14155550123", "+18005550100", "ctx")]


@pytest.mark.parametrize("body", [b"not json", b'"text"', b"[1, 2]"])
def test_a_body_that_is_not_an_array_of_events_is_invalid(body: bytes) -> None:
    with pytest.raises(InvalidArgument):
        parse_callbacks(body)
