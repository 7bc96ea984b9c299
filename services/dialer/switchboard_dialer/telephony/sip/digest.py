"""HTTP digest authentication for SIP (RFC 3261 §22, RFC 2617, RFC 8760 SHA-256)."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

_PARAM = re.compile(r'([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')
_ALGORITHMS = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}


class DigestError(ValueError):
    """A challenge this client cannot answer, or credentials we cannot read."""


def parse_params(header: str) -> tuple[str, dict[str, str]]:
    """``Digest a="b", c=d`` → (``digest``, {a: b, c: d}); names are lower-cased."""
    scheme, _, rest = header.strip().partition(" ")
    params = {m.group(1).lower(): m.group(2) or m.group(3) or "" for m in _PARAM.finditer(rest)}
    return scheme.lower(), params


def response_hash(
    algorithm: str,
    ha1_fields: tuple[str, str, str],
    method: str,
    uri: str,
    nonce: str,
    qop: tuple[str, str, str] | None = None,
) -> str:
    """The ``response`` value of RFC 2617 §3.2.2.1.

    ``ha1_fields`` is (user, realm, password); ``qop`` is (nc, cnonce, qop) or ``None``.
    """

    def h(text: str) -> str:
        return _ALGORITHMS[algorithm](text.encode()).hexdigest()

    ha1 = h(":".join(ha1_fields))
    ha2 = h(f"{method}:{uri}")
    if qop is not None:
        nc, cnonce, kind = qop
        return h(f"{ha1}:{nonce}:{nc}:{cnonce}:{kind}:{ha2}")
    return h(f"{ha1}:{nonce}:{ha2}")


@dataclass(frozen=True)
class Challenge:
    """A ``WWW-Authenticate`` (401) or ``Proxy-Authenticate`` (407) challenge."""

    realm: str
    nonce: str
    algorithm: str = "MD5"
    qop: str = ""
    opaque: str = ""
    stale: bool = False

    @classmethod
    def parse(cls, header: str) -> Challenge:
        scheme, params = parse_params(header)
        if scheme != "digest":
            raise DigestError("only Digest challenges are supported")
        algorithm = params.get("algorithm", "MD5").upper()
        if algorithm not in _ALGORITHMS:
            raise DigestError("unsupported digest algorithm")
        if "nonce" not in params or "realm" not in params:
            raise DigestError("challenge without realm or nonce")
        qops = [q.strip() for q in params.get("qop", "").split(",") if q.strip()]
        if qops and "auth" not in qops:
            raise DigestError("only qop=auth is supported")
        return cls(
            realm=params["realm"],
            nonce=params["nonce"],
            algorithm=algorithm,
            qop="auth" if qops else "",
            opaque=params.get("opaque", ""),
            stale=params.get("stale", "").lower() == "true",
        )


def authorization(
    challenge: Challenge,
    method: str,
    uri: str,
    user: str,
    password: str,
    nonce_count: int = 1,
    cnonce: str = "",
) -> str:
    """The ``Authorization`` / ``Proxy-Authorization`` value answering ``challenge``."""
    credentials = (user, challenge.realm, password)
    fields = [
        f'username="{user}"',
        f'realm="{challenge.realm}"',
        f'nonce="{challenge.nonce}"',
        f'uri="{uri}"',
    ]
    if challenge.qop:
        cnonce = cnonce or secrets.token_hex(8)
        nc = f"{nonce_count:08x}"
        qop = (nc, cnonce, "auth")
        response = response_hash(
            challenge.algorithm, credentials, method, uri, challenge.nonce, qop
        )
        fields += ["qop=auth", f"nc={nc}", f'cnonce="{cnonce}"']
    else:
        response = response_hash(challenge.algorithm, credentials, method, uri, challenge.nonce)
    fields += [f'response="{response}"', f"algorithm={challenge.algorithm}"]
    if challenge.opaque:
        fields.append(f'opaque="{challenge.opaque}"')
    return "Digest " + ", ".join(fields)
