"""Simulated calls: a scenario file plays the callee over the dialer's virtual phone line.

A scenario (YAML)::

    phone_number: "+14155550123"      # the callee; registered as a virtual phone
    request:                          # overrides of the POST /call payload
      bot_company: Contoso Insurance
      claim: [{name: incident_date, type: datetime, description: when it happened}]
    customer:                         # said one by one, each after the bot's turn
      - It happened last Monday.
      - say: john dot smith at example dot com
      - hangup: true                  # ends the call early
      - silence: true                 # says nothing this turn (the bot's silence prompt follows)
      - say: it is john at example dot com
        noise_snr_db: 10              # voice mode: white noise under the line at this SNR
      - say: Sorry, one more thing.   # voice mode: said over the bot, this long
        interrupt_after_ms: 800       # after its audio starts (barge-in)

The first line may be said the moment the callee picks up, before the bot
speaks (``at_answer: true``): a person's "hello?", or an answering machine's
greeting, which ``beep_ms`` (voice mode) ends with a tone of that length::

    customer:
      - say: You've reached Pat, please leave a message after the tone.
        at_answer: true
        beep_ms: 500                  # voice mode: a 1 kHz beep after the greeting
    expect_claim:
      incident_date: "2026-11-16T00:00:00-08:00"

The call is placed through the public REST API, exactly as a client would.
Text mode sends the lines as text; voice mode (``scenario_voice``) speaks them.

With several dialer replicas the phone is registered on every one of them, as a
real number is reachable from every replica through the carrier: the gateway hands
``POST /call`` to any dialer (round_robin), and the call rings the phone on the
replica that placed it; the callee answers and talks there.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from switchboard.errors import SwitchboardError, Unavailable
from switchboard.media import Dtmf
from switchboard.phone import (
    BotDtmf,
    BotSaid,
    BotTurnDone,
    PhoneAnswer,
    PhoneCallEnded,
    PhoneHangUp,
    PhoneMode,
    PhoneRegister,
    PhoneRinging,
    PhoneSay,
    PhoneTransferred,
    PhoneUplink,
)
from switchboard.phone_client import GrpcPhoneStream, PhoneClient
from switchboard.phones import parse_e164

DEFAULT_REQUEST: dict[str, Any] = {
    "bot_company": "Contoso Insurance",
    "bot_name": "Joe",
    "agent_phone_number": "+14155550199",
    "task": "Help the customer file a claim for the damage to their home.",
    "lang": "en-US",
    "claim": [
        {
            "name": "incident_datetime",
            "type": "datetime",
            "description": "when the damage happened",
        },
        {"name": "incident_description", "type": "text", "description": "what happened"},
        {"name": "policyholder_email", "type": "email", "description": "your e-mail address"},
    ],
}

END_TIMEOUT_SEC = 30.0
# The services run (the CLI checked); a loaded machine may still take a while to answer.
REGISTER_TIMEOUT_SEC = 30.0


class CustomerLine(BaseModel):
    """One thing the callee does after the bot's turn."""

    model_config = ConfigDict(extra="forbid")

    say: str = ""
    hangup: bool = False
    dtmf: str = ""
    silence: bool = False  # let this bot turn pass without a word
    # Voice mode: white noise mixed under the line at this signal-to-noise ratio (dB).
    noise_snr_db: float | None = None
    # Voice mode: say this while the bot is talking, this long after its audio started.
    interrupt_after_ms: int | None = Field(default=None, ge=0)
    # Said as soon as the callee picks up, before the bot speaks (first line only).
    at_answer: bool = False
    # Voice mode: an answering machine's beep after the line, this long, at beep_hz.
    beep_ms: int | None = Field(default=None, ge=50, le=3000)
    beep_hz: float = Field(1000.0, ge=300, le=3400)

    @model_validator(mode="before")
    @classmethod
    def _plain_text_is_speech(cls, value: Any) -> Any:
        return {"say": value} if isinstance(value, str) else value


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone_number: str
    customer: list[CustomerLine] = Field(default_factory=list)
    request: dict[str, Any] = Field(default_factory=dict)
    expect_claim: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _answer_line_first(self) -> Scenario:
        if any(line.at_answer for line in self.customer[1:]):
            raise ValueError("only the first customer line can be said at_answer")
        return self

    def payload(self) -> dict[str, Any]:
        return {**DEFAULT_REQUEST, **self.request, "phone_number": self.phone_number}


class ScenarioError(ValueError):
    """The scenario file cannot be used; the message says why."""


def load_scenario(path: Path) -> Scenario:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        scenario = Scenario.model_validate(data)
        parse_e164(scenario.phone_number)
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read it ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path}: not valid YAML: {exc}") from exc
    except ValidationError as exc:
        raise ScenarioError(f"{path}: {exc}") from exc
    except ValueError as exc:
        raise ScenarioError(f"{path}: {exc}") from exc
    return scenario


class SimulationResult(BaseModel):
    call: dict[str, Any]
    heard: list[tuple[str, str]]  # (speaker, text) as the callee experienced the call
    end_reason: str = ""
    # Line index -> ms from the callee's line (its end, in voice mode) to the bot's reply.
    reply_ms: dict[int, float] = Field(default_factory=dict)
    # The dialer (one of the callee's addresses) whose line rang; "" when none did.
    dialer: str = ""


# The callee's line died with its dialer (the phone stream broke mid-call).
LINE_DROPPED = "line_dropped"


def dialer_addresses(target: str | Sequence[str]) -> list[str]:
    """Every dialer replica a target names, each as its own target: an ``ipv4:``/``ipv6:``
    list (as config turns a list of addresses into) is split, a list is kept; one
    ``host:port`` or a ``dns:///`` name stays one (its replicas are not known here)."""
    if not isinstance(target, str):
        return list(target)
    scheme, colon, rest = target.partition(":")
    if colon and scheme in ("ipv4", "ipv6") and "," in rest:
        return [f"{scheme}:{entry}" for entry in rest.split(",")]
    return [target]


Echo = Callable[[str, str], None]
# Called (in a worker thread) with a line's index just before the callee says it.
BeforeLine = Callable[[int], None]


class SimulatedCallee:
    """Registers the scenario's number on the dialer (on each replica of it), places the
    call, plays the lines.

    ``gateway_url`` may list several gateways: a request goes to the first one that
    takes the connection (a refused connection never reached a gateway, so even
    ``POST /call`` is safe to send to the next one).
    """

    def __init__(
        self,
        scenario: Scenario,
        gateway_url: str | Sequence[str],
        api_key: str,
        dialer_address: str | Sequence[str],
        echo: Echo | None = None,
        before_line: BeforeLine | None = None,
    ) -> None:
        self._scenario = scenario
        urls = [gateway_url] if isinstance(gateway_url, str) else list(gateway_url)
        self._gateways = [url.rstrip("/") for url in urls]
        self._gateway = self._gateways[0]
        self._headers = {"Authorization": f"Bearer {api_key}"}
        self._dialers = dialer_addresses(dialer_address)
        self._dialer = self._dialers[0]
        self._rang_on = ""
        self._echo = echo or (lambda speaker, text: None)
        self._heard: list[tuple[str, str]] = []
        self._before_line = before_line
        self._reply_ms: dict[int, float] = {}
        self._awaiting_reply: tuple[int, float] | None = None  # (line index, sent at)

    async def run(self, limit_sec: float = 120.0) -> SimulationResult:
        register = PhoneRegister(self._scenario.phone_number, PhoneMode.TEXT)
        async with contextlib.AsyncExitStack() as stack:
            phones: dict[str, GrpcPhoneStream] = {}
            for address in self._dialers:
                client = PhoneClient(address, wait_for_ready=True)
                stack.push_async_callback(client.close)
                phones[address] = await register_phone(client, register)
                stack.push_async_callback(phones[address].close)
            async with asyncio.timeout(limit_sec):
                call_id = await self._place_call()
                reason = await self._converse_on_any(phones)
                call = await self._final_call(call_id)
        return SimulationResult(
            call=call,
            heard=self._heard,
            end_reason=reason,
            reply_ms=self._reply_ms,
            dialer=self._rang_on,
        )

    async def _request(
        self, http: httpx.AsyncClient, method: str, path: str, **kw: Any
    ) -> httpx.Response:
        """``method path`` on the first gateway that answers: a refused connection never
        reached a gateway (any request may go on to the next); a ``GET`` goes on after
        any transport error (the gateway died under it)."""
        moves_on = httpx.TransportError if method == "GET" else httpx.ConnectError
        *others, last = self._gateways
        for url in others:
            with contextlib.suppress(moves_on):
                return await http.request(method, url + path, headers=self._headers, **kw)
        return await http.request(method, last + path, headers=self._headers, **kw)

    async def _place_call(self) -> str:
        async with httpx.AsyncClient(timeout=10.0) as http:
            reply = await self._request(http, "POST", "/call", json=self._scenario.payload())
        if reply.status_code != 201:
            raise RuntimeError(f"POST /call answered {reply.status_code}: {reply.text}")
        return str(reply.json()["call_id"])

    async def _converse_on_any(self, phones: dict[str, GrpcPhoneStream]) -> str:
        """Waits for the call to ring on one of the phones, then converses there. The
        line's dialer dying ends the call for the callee (:data:`LINE_DROPPED`); the
        other replicas' phone streams do not matter."""
        if len(phones) == 1:
            [(self._rang_on, phone)] = phones.items()
            return await self._converse(phone)
        rang: asyncio.Queue[str] = asyncio.Queue()
        async with asyncio.TaskGroup() as tasks:
            talks = {
                address: tasks.create_task(self._converse(phone, rang.put_nowait, address))
                for address, phone in phones.items()
            }
            self._rang_on = await rang.get()
            for address, talk in talks.items():
                if address != self._rang_on:
                    talk.cancel()
        return talks[self._rang_on].result()

    async def _converse(
        self,
        phone: GrpcPhoneStream,
        ringing: Callable[[str], None] | None = None,
        address: str = "",
    ) -> str:
        """The call on ``phone``; ``ringing(address)`` is told when it rings there."""
        try:
            return await self._converse_on(phone, ringing, address)
        except Unavailable:
            if ringing is not None and self._rang_on != address:
                # Another replica's phone: never rang; wait to be cancelled.
                await asyncio.Event().wait()
            self._hear("system", "the line went dead")
            return LINE_DROPPED

    async def _converse_on(
        self, phone: GrpcPhoneStream, ringing: Callable[[str], None] | None, address: str
    ) -> str:
        lines = list(self._scenario.customer)
        async for event in phone.events():
            match event:
                case PhoneRinging(call_id=call_id):
                    if ringing is not None:
                        ringing(address)
                    await phone.send(PhoneAnswer(call_id))
                    if lines and lines[0].at_answer:
                        self._awaiting_reply = (0, time.monotonic())
                        await phone.send(self._uplink_for(lines.pop(0)))
                case BotSaid(text=text):
                    self._replied()
                    self._hear("bot", text)
                case BotTurnDone():
                    if not lines:
                        continue  # nothing left to say: let the bot finish or time out
                    index = len(self._scenario.customer) - len(lines)
                    line = lines.pop(0)
                    if self._before_line is not None:
                        await asyncio.to_thread(self._before_line, index)
                    if line.silence:
                        self._hear("caller", "(silent)")
                        continue
                    self._awaiting_reply = (index, time.monotonic())
                    await phone.send(self._uplink_for(line))
                case BotDtmf(digits=digits):
                    self._hear("bot", f"(presses {digits})")
                case PhoneTransferred(target=target):
                    self._hear("system", f"transferred to {target}")
                case PhoneCallEnded(reason=reason):
                    self._hear("system", f"call ended ({reason})")
                    return reason
        return "stream_closed"

    def _uplink_for(self, line: CustomerLine) -> PhoneUplink:
        """What the callee does for ``line`` (not a silence), said to the transcript too."""
        if line.hangup:
            self._hear("caller", "(hangs up)")
            return PhoneHangUp("caller_hangup")
        if line.dtmf:
            self._hear("caller", f"(presses {line.dtmf})")
            return Dtmf(line.dtmf)
        self._hear("caller", line.say)
        return PhoneSay(line.say)

    def _replied(self) -> None:
        """The bot answered: the time since the awaited line is that line's reply latency."""
        if self._awaiting_reply is not None:
            index, sent = self._awaiting_reply
            self._reply_ms[index] = (time.monotonic() - sent) * 1000
            self._awaiting_reply = None

    def _hear(self, speaker: str, text: str) -> None:
        self._heard.append((speaker, text))
        self._echo(speaker, text)

    async def _final_call(self, call_id: str) -> dict[str, Any]:
        """The stored call once it has ended and its post-call synthesis is saved."""
        deadline = asyncio.get_running_loop().time() + END_TIMEOUT_SEC
        async with httpx.AsyncClient(timeout=10.0) as http:
            while True:
                reply = await self._request(http, "GET", f"/call/{call_id}")
                reply.raise_for_status()
                call: dict[str, Any] = reply.json()
                done = call.get("state") in ("ended", "failed") and (
                    call.get("synthesis") or call.get("state") == "failed"
                )
                if done or asyncio.get_running_loop().time() > deadline:
                    return call
                await asyncio.sleep(0.1)


async def register_phone(phones: PhoneClient, register: PhoneRegister) -> GrpcPhoneStream:
    """The callee's phone on the dialer; a ``RuntimeError`` that says why if it
    cannot be registered."""
    try:
        return await phones.register(register, timeout_sec=REGISTER_TIMEOUT_SEC)
    except SwitchboardError as exc:
        raise RuntimeError(f"the dialer did not register the simulated phone: {exc}") from exc


def claim_mismatches(expected: dict[str, str], claim: dict[str, Any]) -> list[str]:
    """Differences between the expected and the stored claim, as readable lines.

    Datetimes match when they denote the same instant; e-mails and phone numbers
    ignore case; text matches when the expected words appear in the stored value.
    """
    problems = []
    for name, want in expected.items():
        got = claim.get(name)
        if got is None:
            problems.append(f"{name}: expected {want!r}, but it was not collected")
        elif not _same_value(str(want), str(got)):
            problems.append(f"{name}: expected {want!r}, got {got!r}")
    return problems


def _same_value(want: str, got: str) -> bool:
    with contextlib.suppress(ValueError):
        return datetime.fromisoformat(want) == datetime.fromisoformat(got)
    return " ".join(want.casefold().split()) in " ".join(got.casefold().split())
