"""What the bot is when someone calls it and no open conversation exists.

The config has no section for this yet, so it is a built-in default: a general
receptionist that takes a message. A caller who rings back inside the callback
window resumes their open call instead, whatever it was about.
"""

from __future__ import annotations

from switchboard import domain

DEFAULT_BOT_COMPANY = "Switchboard"
DEFAULT_BOT_NAME = "Switchboard"
# Where "talk to a human" goes on a default inbound call (a placeholder until configurable).
DEFAULT_AGENT_NUMBER = "+18005550199"
DEFAULT_TASK = (
    "Answer the call for the company. Find out who is calling and why, and take a message "
    "so that someone can call them back."
)
DEFAULT_CLAIM = (
    domain.ClaimField(
        name="caller_name", type=domain.ClaimFieldType.TEXT, description="the caller's full name"
    ),
    domain.ClaimField(
        name="reason", type=domain.ClaimFieldType.TEXT, description="why they are calling"
    ),
)


def default_inbound_request(caller: str, agent_number: str) -> domain.CallRequest:
    """The request of a fresh inbound call from ``caller``; humans are at ``agent_number``."""
    return domain.CallRequest(
        bot_company=DEFAULT_BOT_COMPANY,
        bot_name=DEFAULT_BOT_NAME,
        phone_number=caller,
        agent_phone_number=agent_number,
        task=DEFAULT_TASK,
        claim=DEFAULT_CLAIM,
    )
