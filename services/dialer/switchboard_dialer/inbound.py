"""What the bot is when someone calls it and no open conversation exists.

Each dialled number may have its own line in config (``dialer.inbound.numbers``): the
bot's identity, task, claim schema, language and where "talk to a human" goes. Any other
number gets ``dialer.inbound.default``. A caller who rings back inside the callback window
resumes their open call instead, whatever it was about.
"""

from __future__ import annotations

from switchboard import domain
from switchboard.config import InboundLine, InboundSettings
from switchboard.phones import caller_number, parse_e164


class InboundLines:
    """The configured inbound lines, checked once at startup."""

    def __init__(self, settings: InboundSettings) -> None:
        self.region = settings.default_region
        self._default = _checked(settings.default, "dialer.inbound.default")
        self._by_number: dict[str, InboundLine] = {}
        for number, line in settings.numbers.items():
            key = parse_e164(number, f"dialer.inbound.numbers key {number!r}")
            self._by_number[key] = _checked(line, f"dialer.inbound.numbers[{key}]")

    def caller(self, from_number: str) -> str:
        """The caller's E.164 number, or ``""`` for a caller who cannot be identified."""
        return caller_number(from_number, self.region)

    def request(self, caller: str, to_number: str) -> domain.CallRequest:
        """The request of a fresh inbound call from ``caller`` to ``to_number``."""
        line = self._by_number.get(caller_number(to_number, self.region), self._default)
        return domain.CallRequest(
            bot_company=line.bot_company,
            bot_name=line.bot_name,
            phone_number=caller,
            agent_phone_number=line.agent_phone_number,
            task=line.task,
            lang=line.lang,
            claim=tuple(
                domain.ClaimField(
                    name=f.name, type=domain.ClaimFieldType(f.type), description=f.description
                )
                for f in line.claim
            ),
        )


def _checked(line: InboundLine, where: str) -> InboundLine:
    """The line with its agent number in E.164; a typo fails at startup, not mid-call."""
    if not line.agent_phone_number.strip():
        return line
    agent = parse_e164(line.agent_phone_number, f"{where}.agent_phone_number")
    return line.model_copy(update={"agent_phone_number": agent})
