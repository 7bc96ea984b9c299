"""Whether an inbound call may resume a stored conversation of its caller's number.

Caller ID is not authentication: anyone can send a victim's number as ``From``. So an
inbound call only resumes a conversation that is still unfinished (the caller hung up or
the line dropped before the claim was done); a completed one (the agent ended it, the
caller said goodbye, it was handed to a human, or every claim field has a value) is left
alone and the caller gets a fresh call. The brain, for its part, never reads stored
values to a resumed caller. The rule lives here, where inbound resumption is decided, so
it is the same on every carrier.
"""

from __future__ import annotations

from switchboard import domain

# Ending reasons that mean the conversation reached its end, not that it was cut short.
COMPLETED_REASONS = frozenset(
    {
        "claim_complete",  # form policy: every field done, the caller closed
        "caller_goodbye",  # the caller ended the conversation
        "agent_end_call",  # the LLM agent's end_call tool
        "bot_hangup",  # an end_call without a reason
        "transferred",  # a human took it over
    }
)


def is_completed(call: domain.Call) -> bool:
    """True for a conversation that ended on purpose or whose claim is fully filled."""
    if call.state is domain.CallState.ENDED and call.state_reason in COMPLETED_REASONS:
        return True
    fields = call.initiate.claim
    return bool(fields) and all(call.claim.get(f.name) for f in fields)


def inbound_may_resume(call: domain.Call) -> bool:
    """Whether an inbound call from the call's number may continue ``call``."""
    return not is_completed(call)
