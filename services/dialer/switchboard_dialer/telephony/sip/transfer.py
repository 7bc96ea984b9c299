"""Blind transfer: REFER (RFC 3515) with NOTIFY progress, else a bridged second call.

The far end may refuse REFER (405, 501, 603 …) or accept it and then report through
NOTIFY that its new call failed. Either way we fall back: we call the target ourselves
and relay audio (and DTMF) between the two calls until one of them hangs up.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from switchboard_dialer.telephony.sip.address import NameAddr
from switchboard_dialer.telephony.sip.call import CallFailed, CallState, SipCall
from switchboard_dialer.telephony.sip.context import SipContext

log = logging.getLogger(__name__)


class Dialler(SipContext, Protocol):
    """A user agent that can also place the second call of a bridged transfer."""

    async def call(self, target: str, ring_timeout_sec: float | None = None) -> SipCall:
        """Starts an outbound call; returns while it rings."""


async def blind_transfer(agent: Dialler, call: SipCall, target: str) -> str:
    """Blind transfer: REFER, or a bridged second call when REFER is refused.

    Returns ``"referred"`` (the far end took the call elsewhere; this call ended) or
    ``"bridged"`` (we called ``target`` and now relay audio between the two calls).
    Raises :class:`CallFailed` if neither worked; the call then stays up.
    """
    if call.state is not CallState.ANSWERED or call.dialog is None:
        raise CallFailed("only an answered call can be transferred")
    uri = agent.target_uri(target)
    if await _refer(call, str(uri)):
        await call.send_bye()
        await call.finish("transferred")
        return "referred"
    log.info("sip refer refused; bridging", extra={"call": call.ref})
    await _bridge(agent, call, target)
    return "bridged"


async def _refer(call: SipCall, target_uri: str) -> bool:
    """Whether the far end took the call to the target (NOTIFY with a 2xx sipfrag)."""
    assert call.dialog is not None
    context = call.context
    while not call.refer_progress.empty():
        call.refer_progress.get_nowait()
    request = call.dialog.request("REFER", context.transport.via())
    request.add("Refer-To", f"<{target_uri}>")
    request.add("Referred-By", str(NameAddr(call.dialog.local.uri)))
    final = await context.transport.request(request, call.dialog.next_hop).final
    if not 200 <= final.status < 300:
        log.info("sip refer answered", extra={"call": call.ref, "status": final.status})
        return False
    try:
        async with asyncio.timeout(context.config.transfer_timeout_sec):
            while True:
                status = await call.refer_progress.get()
                if status >= 200:
                    log.info("sip refer notify", extra={"call": call.ref, "status": status})
                    return status < 300
    except TimeoutError:
        log.info("sip refer got no final notify", extra={"call": call.ref})
        return False


async def _bridge(agent: Dialler, call: SipCall, target: str) -> None:
    """Calls ``target`` and relays media both ways; the two calls end together."""
    second = await agent.call(target)
    try:
        await second.wait_answered()
    except CallFailed:
        raise
    except asyncio.CancelledError:
        await second.hang_up()
        raise
    call.bridged_to = second
    second.bridged_to = call
    agent.spawn(_relay(call, second), f"bridge-{call.ref}")


async def _relay(first: SipCall, second: SipCall) -> None:
    async def pump(source: SipCall, sink: SipCall) -> None:
        async for frame in source.audio_in():
            sink.send_audio(frame)

    async def digits(source: SipCall, sink: SipCall) -> None:
        async for digit in source.digits():
            if sink.media is not None and sink.media.dtmf_payload is not None:
                sink.send_dtmf(digit)

    try:
        async with asyncio.TaskGroup() as group:
            legs = [
                group.create_task(pump(first, second), name=f"bridge-{first.ref}-a"),
                group.create_task(pump(second, first), name=f"bridge-{first.ref}-b"),
                group.create_task(digits(first, second), name=f"bridge-{first.ref}-da"),
                group.create_task(digits(second, first), name=f"bridge-{first.ref}-db"),
            ]
            await asyncio.wait([first.ended, second.ended], return_when=asyncio.FIRST_COMPLETED)
            for leg in legs:
                leg.cancel()
    finally:
        await asyncio.gather(first.hang_up(), second.hang_up(), return_exceptions=True)
