"""What the dialer and the gateway agree on about a Twilio call: its URLs and TwiML.

The dialer gives Twilio these when it places a call; the gateway serves them and
checks the per-call token (:mod:`switchboard.carrier_tokens`) when Twilio comes
back. Twilio drops query strings from ``<Stream url>``, so the media socket's
call id is in its path and its token in a ``<Parameter>`` (``start.customParameters``).
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit, urlunsplit
from xml.etree import ElementTree as ET

from switchboard.carrier_tokens import ROUTE_PARAM, call_token

VOICE_PATH = "/twilio/voice"
STATUS_PATH = "/twilio/status"
MEDIA_PATH = "/twilio/media"


def _base(public_url: str) -> str:
    return public_url.rstrip("/")


def media_url(public_url: str, call_id: str) -> str:
    """``wss://host/twilio/media/{call_id}`` (``ws://`` behind a plain-HTTP public URL)."""
    parts = urlsplit(_base(public_url))
    scheme = "wss" if parts.scheme == "https" else "ws"
    return urlunsplit((scheme, parts.netloc, f"{parts.path}{MEDIA_PATH}/{call_id}", "", ""))


def status_url(public_url: str, call_id: str, secret: str, route: str = "") -> str:
    """Where Twilio posts the call's progress and its answering-machine result (``route``:
    the signed address of the dialer replica running the call, when there are several)."""
    params = {"call_id": call_id, "token": call_token(secret, call_id, "status")}
    if route:
        params[ROUTE_PARAM] = route
    return f"{_base(public_url)}{STATUS_PATH}?{urlencode(params)}"


def stream_twiml(public_url: str, call_id: str, secret: str, route: str = "") -> str:
    """``<Connect><Stream>`` to the gateway's media socket for ``call_id``."""
    response = ET.Element("Response")
    stream = ET.SubElement(
        ET.SubElement(response, "Connect"), "Stream", url=media_url(public_url, call_id)
    )
    ET.SubElement(stream, "Parameter", name="call_id", value=call_id)
    ET.SubElement(stream, "Parameter", name="token", value=call_token(secret, call_id))
    if route:
        ET.SubElement(stream, "Parameter", name=ROUTE_PARAM, value=route)
    return _xml(response)


def dial_twiml(target: str) -> str:
    """Hands the live call to ``target`` (blind transfer)."""
    response = ET.Element("Response")
    ET.SubElement(response, "Dial").text = target
    return _xml(response)


def reject_twiml() -> str:
    response = ET.Element("Response")
    ET.SubElement(response, "Reject", reason="busy")
    return _xml(response)


def _xml(element: ET.Element) -> str:
    body = ET.tostring(element, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>{body}'
