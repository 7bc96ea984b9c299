"""SIP URIs, name-addr values (From, To, Contact, Route) and Via headers."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field

_TOKEN = r"[A-Za-z0-9.!%*_+`'~-]+"
_URI = re.compile(
    # The user part may hold ";", "?" and "/" (RFC 3261 §25.1); only "@" ends it.
    r"^(?P<scheme>sips?):(?:(?P<user>[^@\s<>]+)@)?(?P<host>\[[0-9a-fA-F:.]+\]|[^:;?<>\s@]+)"
    r"(?::(?P<port>[0-9]{1,5}))?(?P<params>;[^?\s<>]*)?(?P<headers>\?[^\s<>]*)?$"
)
# A display name is a quoted string or tokens separated by spaces (RFC 3261 §25.1).
_NAME_ADDR = re.compile(
    r'^\s*(?:"(?P<quoted>(?:[^"\\]|\\.)*)"|(?P<plain>[A-Za-z0-9.!%*_+`\'~\s-]*?))?'
    r"\s*<(?P<uri>[^>]*)>(?P<params>.*)$"
)
_VIA = re.compile(
    rf"^SIP\s*/\s*2\.0\s*/\s*(?P<transport>{_TOKEN})\s+"
    r"(?P<host>\[[0-9a-fA-F:.]+\]|[^;:\s\[\]]+)(?:\s*:\s*(?P<port>[0-9]{1,5}))?(?P<params>.*)$"
)
_VIA_PARAMS = re.compile(rf"^(?:\s*;\s*{_TOKEN}(?:\s*=\s*[^;,\s]+)?)*\s*$")
MAX_PORT = 65535

BRANCH_MAGIC = "z9hG4bK"


class AddressError(ValueError):
    """A URI or header value that cannot be read."""


def _params(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in text.split(";"):
        item = item.strip()
        if item:
            key, _, value = item.partition("=")
            out[key.strip().lower()] = value.strip()
    return out


def _format_params(params: dict[str, str]) -> str:
    return "".join(f";{k}={v}" if v else f";{k}" for k, v in params.items())


@dataclass
class SipUri:
    """``sip:user@host:port;params``."""

    host: str
    user: str = ""
    port: int | None = None
    scheme: str = "sip"
    params: dict[str, str] = field(default_factory=dict)
    headers: str = ""  # "?name=value&…", as received

    @classmethod
    def parse(cls, text: str) -> SipUri:
        match = _URI.match(text.strip())
        if match is None:
            raise AddressError("not a SIP URI")
        port = match.group("port")
        if port and not 0 < int(port) <= MAX_PORT:
            raise AddressError("bad port in a SIP URI")
        return cls(
            host=match.group("host"),
            user=match.group("user") or "",
            port=int(port) if port else None,
            scheme=match.group("scheme"),
            params=_params(match.group("params") or ""),
            headers=match.group("headers") or "",
        )

    @property
    def address(self) -> tuple[str, int]:
        """Where to send a request for this URI (no DNS: a trunk is configured by address)."""
        return self.host.strip("[]"), self.port or 5060

    def __str__(self) -> str:
        user = f"{self.user}@" if self.user else ""
        port = f":{self.port}" if self.port else ""
        params = _format_params(self.params)
        return f"{self.scheme}:{user}{self.host}{port}{params}{self.headers}"


@dataclass
class NameAddr:
    """``"Display" <uri>;tag=…`` as in From, To, Contact, Route and Refer-To."""

    uri: SipUri
    display: str = ""
    params: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> NameAddr:
        match = _NAME_ADDR.match(text)
        if match is not None:
            display = (match.group("quoted") or match.group("plain") or "").strip()
            return cls(SipUri.parse(match.group("uri")), display, _params(match.group("params")))
        # addr-spec without brackets: parameters after the URI belong to the header.
        uri_text, _, params = text.strip().partition(";")
        return cls(SipUri.parse(uri_text), "", _params(params))

    @property
    def tag(self) -> str:
        return self.params.get("tag", "")

    def __str__(self) -> str:
        display = f'"{self.display}" ' if self.display else ""
        return f"{display}<{self.uri}>{_format_params(self.params)}"


@dataclass
class Via:
    """One Via entry: ``SIP/2.0/UDP host:port;branch=…``."""

    host: str
    port: int | None
    transport: str = "UDP"
    params: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> Via:
        match = _VIA.match(text.strip())
        if match is None or not _VIA_PARAMS.match(match.group("params")):
            raise AddressError("bad Via")
        port = match.group("port")
        if port and not 0 < int(port) <= MAX_PORT:
            raise AddressError("bad Via port")
        return cls(
            match.group("host"),
            int(port) if port else None,
            match.group("transport").upper(),
            _params(match.group("params")),
        )

    @property
    def branch(self) -> str:
        return self.params.get("branch", "")

    def __str__(self) -> str:
        port = f":{self.port}" if self.port else ""
        return f"SIP/2.0/{self.transport} {self.host}{port}{_format_params(self.params)}"


def new_branch() -> str:
    return BRANCH_MAGIC + secrets.token_hex(8)


def new_tag() -> str:
    return secrets.token_hex(6)
