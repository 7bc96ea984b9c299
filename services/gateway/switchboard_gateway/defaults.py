"""What ``POST /call`` uses when a field is left out: the reference's insurance example.

Omitting ``claim`` gets the nine insurance fields below; sending ``"claim": []``
means "collect nothing", and the bot only works on the task.
"""

from __future__ import annotations

from switchboard.domain import ClaimField, ClaimFieldType

DEFAULT_LANG = "en-US"
DEFAULT_PROSODY_RATE = 1.0

DEFAULT_TASK = (
    "Help the customer file an insurance claim. The customer is probably calling about "
    "damage or a loss covered by their policy, but that is not certain. Collect the "
    "information the claim needs, one or two questions at a time. The conversation is over "
    "when everything relevant to the case has been collected; the more complete the claim, "
    "the faster it can be processed."
)

_TEXT = ClaimFieldType.TEXT

DEFAULT_CLAIM: tuple[ClaimField, ...] = (
    ClaimField(
        name="incident_datetime",
        type=ClaimFieldType.DATETIME,
        description="When the incident happened, date and time",
    ),
    ClaimField(
        name="incident_description",
        type=_TEXT,
        description="What happened, in the customer's words",
    ),
    ClaimField(name="incident_location", type=_TEXT, description="Where the incident happened"),
    ClaimField(name="injuries", type=_TEXT, description="Whether anyone was hurt, and how"),
    ClaimField(
        name="involved_parties",
        type=_TEXT,
        description="Other people or companies involved",
    ),
    ClaimField(
        name="medical_records",
        type=_TEXT,
        description="Medical reports or treatments related to the incident",
    ),
    ClaimField(name="policy_number", type=_TEXT, description="The insurance policy number"),
    ClaimField(
        name="pre_existing_damages",
        type=_TEXT,
        description="Damage that existed before the incident",
    ),
    ClaimField(name="witnesses", type=_TEXT, description="Names and contacts of witnesses"),
)
