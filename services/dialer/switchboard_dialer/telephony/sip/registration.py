"""Registration with a registrar (RFC 3261 §10): REGISTER, digest auth, refresh, unregister."""

from __future__ import annotations

import asyncio
import logging
import secrets

from switchboard_dialer.telephony.sip import digest
from switchboard_dialer.telephony.sip.address import NameAddr, SipUri, new_tag
from switchboard_dialer.telephony.sip.context import SipContext
from switchboard_dialer.telephony.sip.message import SipRequest, SipResponse, ascii_digits

log = logging.getLogger(__name__)

MIN_REFRESH_SEC = 5.0
UNREGISTER_WAIT_SEC = 2.0  # at shutdown; the registrar forgets us at expiry anyway


class RegistrationError(Exception):
    """The registrar refused us; ``status`` is its final answer (408 for no answer)."""

    def __init__(self, status: int) -> None:
        super().__init__(f"registration failed with SIP status {status}")
        self.status = status


class Registration:
    """Keeps our contact bound at the registrar; refreshed at half the granted lifetime."""

    def __init__(self, context: SipContext) -> None:
        self._context = context
        config = context.config
        domain = config.aor_domain
        host, _, port = domain.partition(":")
        self._aor = NameAddr(SipUri(host, config.user, int(port) if ascii_digits(port) else None))
        self._registrar = SipUri(host, "", int(port) if ascii_digits(port) else None)
        self._call_id = f"{secrets.token_hex(12)}@switchboard"
        self._tag = new_tag()
        self._cseq = secrets.randbelow(10_000) + 1
        self.expires = 0
        self.registered = False

    def _request(self, expires: int, authorization: tuple[str, str] | None) -> SipRequest:
        context = self._context
        self._cseq += 1
        request = SipRequest(method="REGISTER", uri=str(self._registrar))
        request.add("Via", context.transport.via())
        request.add("Max-Forwards", "70")
        request.add("From", f"{self._aor};tag={self._tag}")
        request.add("To", str(self._aor))
        request.add("Call-ID", self._call_id)
        request.add("CSeq", f"{self._cseq} REGISTER")
        request.add("Contact", context.contact)
        request.add("Expires", str(expires))
        request.add("User-Agent", context.config.user_agent)
        if authorization is not None:
            request.add(*authorization)
        return request

    async def _send(self, expires: int) -> SipResponse:
        context = self._context
        config = context.config
        hop = (config.trunk_host, config.trunk_port)
        authorization: tuple[str, str] | None = None
        for _ in range(3):
            request = self._request(expires, authorization)
            response = await context.transport.request(request, hop).final
            if response.status not in (401, 407) or (
                authorization is not None and not _stale(response)
            ):
                return response
            header = "WWW-Authenticate" if response.status == 401 else "Proxy-Authenticate"
            try:
                challenge = digest.Challenge.parse(response.get(header) or "")
            except digest.DigestError:
                return response
            value = digest.authorization(
                challenge, "REGISTER", request.uri, config.auth_user or config.user, config.password
            )
            authorization = (
                "Authorization" if response.status == 401 else "Proxy-Authorization",
                value,
            )
        return response

    async def register(self) -> None:
        """One REGISTER (with auth if challenged); raises :class:`RegistrationError`."""
        response = await self._send(self._context.config.register_expires_sec)
        if not 200 <= response.status < 300:
            self.registered = False
            raise RegistrationError(response.status)
        self.expires = _granted(response, self._context.config.register_expires_sec)
        self.registered = True
        log.info("sip registered", extra={"expires_sec": self.expires})

    async def keep_alive(self) -> None:
        """Refreshes before expiry; after a failure retries every ``register_retry_sec``."""
        while True:
            if self.registered:
                await asyncio.sleep(max(MIN_REFRESH_SEC, self.expires / 2))
            else:
                await asyncio.sleep(self._context.config.register_retry_sec)
            try:
                await self.register()
            except RegistrationError as exc:
                log.warning("sip registration refresh failed", extra={"status": exc.status})

    async def unregister(self) -> None:
        if not self.registered:
            return
        self.registered = False
        try:
            await asyncio.wait_for(self._send(0), UNREGISTER_WAIT_SEC)
        except TimeoutError:
            log.info("sip unregister got no answer")


def _stale(response: SipResponse) -> bool:
    header = response.get("WWW-Authenticate") or response.get("Proxy-Authenticate") or ""
    try:
        return digest.Challenge.parse(header).stale
    except digest.DigestError:
        return False


def _granted(response: SipResponse, asked: int) -> int:
    """The lifetime the registrar granted: our Contact's expires, else Expires, else ours."""
    contact = response.get_all("Contact")
    for value in contact:
        try:
            expires = NameAddr.parse(value).params.get("expires", "")
        except ValueError:
            continue
        if ascii_digits(expires):
            return int(expires)
    header = response.get("Expires") or ""
    return int(header) if ascii_digits(header) else asked
