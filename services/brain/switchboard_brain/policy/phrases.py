"""The form policy's wording: greetings, questions, confirmations, recap, goodbye."""

from __future__ import annotations

import re
from datetime import datetime

from switchboard.domain import CallRequest, ClaimField, ClaimFieldType
from switchboard_brain.extract.dates import speak_datetime
from switchboard_brain.extract.phones import speak_phone

# A task starting with one of these is a description ("The customer …"), not a verb
# phrase ("Collect …"), so "I'm calling to …" would not read well.
_NOT_A_VERB = frozenset(
    "the a an this that our your their his her its my customer client caller he she they "
    "we i it there".split()
)
_LABEL_MAX_WORDS = 6
_REPHRASE = {
    ClaimFieldType.DATETIME: "You can say a date like 'last Monday' or 'the 3rd of March', "
    "and a time if you know it.",
    ClaimFieldType.EMAIL: "You can spell it, for example 'john dot smith at example dot com'.",
    ClaimFieldType.PHONE_NUMBER: "Please say the number digit by digit.",
    ClaimFieldType.TEXT: "A few words are enough.",
}
ANYTHING_ELSE = "Is there anything else I can do for you?"
_SORRY = ("Sorry, I didn't quite get that.", "Sorry, I still didn't get that.")


def _strip_end(text: str) -> str:
    return text.strip().rstrip(".!;: ")


def _lower_first(text: str) -> str:
    """Lower-cases a leading capital to continue a sentence, but keeps acronyms ("VIN")."""
    acronym = len(text) > 1 and text[0].isupper() and text[1].isupper()
    return text if acronym else text[:1].lower() + text[1:]


def task_clause(task: str) -> str:
    """The task as a sentence after "I'm calling …"."""
    body = _strip_end(task)
    first = body.split(" ", 1)[0].lower() if body else ""
    if not body:
        return "I'm calling about your file."
    if first in _NOT_A_VERB:
        return f"I'm calling about the following: {body}."
    return f"I'm calling to {to_second_person(_lower_first(body))}."


_SECOND_PERSON_RE = (
    (re.compile(r"\b(?:the|our) (?:customer|caller|client)'s\b"), "your"),
    (re.compile(r"\b(?:the|our) (?:customer|caller|client)\b"), "you"),
    (re.compile(r"\btheir\b"), "your"),
    (re.compile(r"\bthemselves\b"), "yourself"),
    (re.compile(r"\bthem\b"), "you"),
    (re.compile(r"\bthey\b"), "you"),
)


def to_second_person(text: str) -> str:
    """A task written for the bot, said to the caller: "help the customer file their claim"
    → "help you file your claim"."""
    for pattern, replacement in _SECOND_PERSON_RE:
        text = pattern.sub(replacement, text)
    return text


def label(claim_field: ClaimField) -> str:
    """A short name for a field in a recap ("date of the incident", "email")."""
    if claim_field.description.strip().endswith("?"):
        return claim_field.name.replace("_", " ")
    description = _strip_end(claim_field.description.split(",", 1)[0])
    if description and len(description.split()) <= _LABEL_MAX_WORDS:
        return _lower_first(description)
    return claim_field.name.replace("_", " ")


def question(claim_field: ClaimField) -> str:
    """How to ask for a field, from its description."""
    description = claim_field.description.strip()
    if description.endswith("?"):
        return description
    topic = _strip_end(description) or f"the {claim_field.name.replace('_', ' ')}"
    return f"Could you tell me {_lower_first(topic)}?"


def rephrase(claim_field: ClaimField, failures: int) -> list[str]:
    """Asking again after an answer that could not be used."""
    sorry = _SORRY[min(failures, len(_SORRY)) - 1]
    return [sorry, question(claim_field), _REPHRASE[claim_field.type]]


def spoken_value(claim_field: ClaimField, value: str) -> str:
    """A stored value as the bot reads it back."""
    match claim_field.type:
        case ClaimFieldType.DATETIME:
            try:
                return speak_datetime(datetime.fromisoformat(value))
            except ValueError:
                return value
        case ClaimFieldType.PHONE_NUMBER:
            return speak_phone(value)
        case ClaimFieldType.EMAIL:
            return value
    return value


def confirmation(claim_field: ClaimField, value: str) -> str:
    """ "Got it, the 16th of November 2026."."""
    spoken = spoken_value(claim_field, value)
    return f"Got it, {spoken}." if not spoken.endswith((".", "!", "?")) else f"Got it, {spoken}"


def greeting(request: CallRequest) -> list[str]:
    return [
        f"Hello, this is {request.bot_name} from {request.bot_company}.",
        task_clause(request.task),
    ]


def welcome_back(request: CallRequest) -> list[str]:
    topic = _lower_first(_strip_end(request.task)) or "your file"
    return [
        f"Welcome back, this is {request.bot_name} from {request.bot_company}.",
        f"We were talking about this: {topic}.",
        "Let's continue where we left off.",
    ]


def recap(request: CallRequest, claim: dict[str, str]) -> list[str]:
    """A short summary of what was collected, and what is still missing."""
    parts = [
        f"{label(f)}: {spoken_value(f, claim[f.name])}" for f in request.claim if f.name in claim
    ]
    sentences = [f"To sum up, I noted {'; '.join(parts)}."] if parts else []
    missing = [label(f) for f in request.claim if f.name not in claim]
    if missing:
        sentences.append(f"We still need {', '.join(missing)}; you can send it to us later.")
    return sentences


def goodbye(request: CallRequest) -> list[str]:
    return [f"Thank you for your time. {request.bot_company} wishes you a good day, goodbye!"]


SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s+")


def split_sentences(content: str) -> list[str]:
    """Stored turn content back into the sentences it was spoken as."""
    return [s for s in SENTENCE_END_RE.split(content.strip()) if s]
