"""SIP messages (RFC 3261 §7): parsing with strict limits, and serialising.

A datagram is parsed whole or rejected with :class:`SipParseError`. The error keeps
whatever headers were readable, so the transport can still answer ``400 Bad Request``
when the request carried enough to route a response (a Via, Call-ID, From, To, CSeq).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_DATAGRAM_BYTES = 65_507
MAX_HEADER_BYTES = 16_384
MAX_HEADER_LINE_BYTES = 4_096
MAX_HEADERS = 80
MAX_BODY_BYTES = 16_384

# RFC 3261 §7.3.3 compact forms, plus the event-package ones (RFC 3265, 3515).
_COMPACT = {
    "i": "Call-ID",
    "m": "Contact",
    "e": "Content-Encoding",
    "l": "Content-Length",
    "c": "Content-Type",
    "f": "From",
    "s": "Subject",
    "k": "Supported",
    "t": "To",
    "v": "Via",
    "o": "Event",
    "r": "Refer-To",
    "b": "Referred-By",
    "u": "Allow-Events",
}
_CANONICAL = {
    name.lower(): name
    for name in (
        "Call-ID CSeq WWW-Authenticate Proxy-Authenticate Proxy-Authorization "
        "Record-Route Max-Forwards Content-Length Content-Type Subscription-State "
        "Refer-To Referred-By User-Agent Allow-Events Min-Expires RSeq RAck"
    ).split()
}
# Headers that may appear once only; a second copy makes the request unreadable.
_SINGLE = frozenset({"Call-ID", "CSeq", "From", "To", "Content-Length", "Max-Forwards"})
# Headers whose value is a comma-separated list of entries.
_LISTS = frozenset({"Via", "Route", "Record-Route", "Contact"})
MANDATORY = ("Via", "From", "To", "Call-ID", "CSeq")

_TOKEN_CHARS = r"[A-Za-z0-9.!%*_+`'~-]"
_TOKEN = re.compile(rf"^{_TOKEN_CHARS}+$")
# A method is any token (RFC 3261 §25.1): an unknown one is answered, not dropped.
_REQUEST_LINE = re.compile(rf"^({_TOKEN_CHARS}{{1,64}}) ([^ ]{{3,1024}}) SIP/2\.0$")
_STATUS_LINE = re.compile(r"^SIP/2\.0 ([1-6][0-9]{2}) ([^\r\n]{0,256})$")
_CSEQ = re.compile(rf"^([0-9]{{1,10}})\s+({_TOKEN_CHARS}{{1,64}})$")
MAX_CSEQ = 2**31 - 1  # RFC 3261 §8.1.1.5
MAX_MAX_FORWARDS = 255


class SipParseError(Exception):
    """A datagram that is not a valid SIP message; ``partial`` holds what was readable."""

    def __init__(self, reason: str, partial: SipRequest | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.partial = partial


def ascii_digits(text: str, max_len: int = 10) -> bool:
    """Whether ``text`` is 1 to ``max_len`` ASCII digits.

    ``str.isdigit`` alone accepts ``²`` or ``٣``, which ``int`` then refuses (or reads):
    every number a peer sends is checked with this before ``int``.
    """
    return 0 < len(text) <= max_len and text.isascii() and text.isdigit()


def canonical_name(name: str) -> str:
    low = name.lower()
    if low in _COMPACT:
        return _COMPACT[low]
    return _CANONICAL.get(low) or "-".join(part.capitalize() for part in low.split("-"))


def split_list(value: str) -> list[str]:
    """Splits a header list on commas outside quotes and angle brackets."""
    parts: list[str] = []
    depth = 0
    quoted = False
    start = 0
    for i, ch in enumerate(value):
        if ch == '"' and (i == 0 or value[i - 1] != "\\"):
            quoted = not quoted
        elif not quoted and ch == "<":
            depth += 1
        elif not quoted and ch == ">":
            depth = max(0, depth - 1)
        elif ch == "," and not quoted and depth == 0:
            parts.append(value[start:i].strip())
            start = i + 1
    parts.append(value[start:].strip())
    return [p for p in parts if p]


@dataclass
class SipMessage:
    """Headers in order (canonical names) and a body; Content-Length is computed on output."""

    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def get(self, name: str) -> str | None:
        name = canonical_name(name)
        return next((v for n, v in self.headers if n == name), None)

    def get_all(self, name: str) -> list[str]:
        name = canonical_name(name)
        values = [v for n, v in self.headers if n == name]
        if name in _LISTS:
            return [item for v in values for item in split_list(v)]
        return values

    def set(self, name: str, value: str) -> None:
        self.remove(name)
        self.headers.append((canonical_name(name), value))

    def add(self, name: str, value: str) -> None:
        self.headers.append((canonical_name(name), value))

    def remove(self, name: str) -> None:
        name = canonical_name(name)
        self.headers = [(n, v) for n, v in self.headers if n != name]

    @property
    def call_id(self) -> str:
        return self.get("Call-ID") or ""

    @property
    def cseq(self) -> tuple[int, str]:
        match = _CSEQ.match(self.get("CSeq") or "")
        return (int(match.group(1)), match.group(2)) if match else (0, "")

    def _serialise(self, start_line: str) -> bytes:
        lines = [start_line]
        lines += [f"{n}: {v}" for n, v in self.headers if n != "Content-Length"]
        lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + self.body


@dataclass
class SipRequest(SipMessage):
    method: str = ""
    uri: str = ""

    def to_bytes(self) -> bytes:
        return self._serialise(f"{self.method} {self.uri} SIP/2.0")


@dataclass
class SipResponse(SipMessage):
    status: int = 0
    reason: str = ""

    def to_bytes(self) -> bytes:
        return self._serialise(f"SIP/2.0 {self.status} {self.reason}")


def parse(data: bytes) -> SipRequest | SipResponse:
    """One datagram → one message, or :class:`SipParseError`."""
    if len(data) > MAX_DATAGRAM_BYTES:
        raise SipParseError("datagram too large")
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        raise SipParseError("no end of headers")
    text = head.decode("utf-8", errors="replace")
    lines = text.split("\r\n")
    start = lines[0]
    message: SipRequest | SipResponse
    if request := _REQUEST_LINE.match(start):
        message = SipRequest(method=request.group(1), uri=request.group(2))
    elif status := _STATUS_LINE.match(start):
        message = SipResponse(status=int(status.group(1)), reason=status.group(2))
    else:
        raise SipParseError("bad start line")
    partial = message if isinstance(message, SipRequest) else None
    # Headers are read even past a limit (the datagram bounds the work), so that a
    # 400 can still be routed back; the first problem found is what we report.
    problem = _read_headers(message, lines[1:])
    if problem is None and len(head) > MAX_HEADER_BYTES:
        problem = "headers too large"
    if problem is None and "\ufffd" in text:
        problem = "headers are not UTF-8"
    if problem is not None:
        raise SipParseError(problem, partial)
    message.body = _read_body(message, body, partial)
    _check(message, partial)
    return message


def _read_headers(message: SipMessage, lines: list[str]) -> str | None:
    """Fills ``message.headers``; returns the first problem, if any."""
    problems: list[str] = []
    unfolded: list[str] = []
    for line in lines:
        if line[:1] in (" ", "\t") and unfolded:
            unfolded[-1] += " " + line.strip()
        else:
            unfolded.append(line)
    if len(unfolded) > MAX_HEADERS:
        problems.append("too many headers")
    for line in unfolded:
        if len(line) > MAX_HEADER_LINE_BYTES:
            problems.append("header line too long")
            continue
        name, colon, value = line.partition(":")
        name = name.strip()
        if not colon or not _TOKEN.match(name):
            problems.append("malformed header line")
            continue
        message.headers.append((canonical_name(name), value.strip()))
    return problems[0] if problems else None


def _read_body(message: SipMessage, body: bytes, partial: SipRequest | None) -> bytes:
    length_text = message.get("Content-Length")
    if length_text is None:  # allowed over UDP: the body runs to the end of the datagram
        length = len(body)
    elif not ascii_digits(length_text, 6):
        raise SipParseError("bad Content-Length", partial)
    else:
        length = int(length_text)
    if length > MAX_BODY_BYTES:
        raise SipParseError("body too large", partial)
    if length > len(body):
        raise SipParseError("Content-Length larger than the body", partial)
    return body[:length]  # RFC 3261 §18.3: bytes past Content-Length are discarded


def _check(message: SipRequest | SipResponse, partial: SipRequest | None) -> None:
    names = [n for n, _ in message.headers]
    for name in _SINGLE:
        if names.count(name) > 1:
            raise SipParseError(f"duplicated {name}", partial)
    for name in MANDATORY:
        if name not in names:
            raise SipParseError(f"missing {name}", partial)
    cseq = _CSEQ.match(message.get("CSeq") or "")
    if cseq is None or int(cseq.group(1)) > MAX_CSEQ:
        raise SipParseError("bad CSeq", partial)
    if isinstance(message, SipRequest) and cseq.group(2) != message.method:
        raise SipParseError("CSeq method differs from the request method", partial)
    max_forwards = message.get("Max-Forwards")
    if max_forwards is not None and not (
        ascii_digits(max_forwards) and int(max_forwards) <= MAX_MAX_FORWARDS
    ):
        raise SipParseError("bad Max-Forwards", partial)
