"""The form policy's wording: greetings, questions, confirmations, recap, goodbye."""

from __future__ import annotations

import re
from collections.abc import Sequence
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
_ECHO_MAX_WORDS = 3
# A topic starting with one of these reads after "Could you tell me" as it is.
_DETERMINED = frozenset(
    "the a an your my our this that these those some any every each what when where who "
    "whom whose which why how whether if roughly approximately".split()
)
_NOTED_MIN_WORDS = 2  # "I've noted what happened", but not "I've noted what"
_REPHRASE = {
    ClaimFieldType.DATETIME: "You can say a date like 'last Monday' or 'the 3rd of March', "
    "and a time if you know it.",
    ClaimFieldType.EMAIL: "You can spell it, for example 'john dot smith at example dot com'.",
    ClaimFieldType.PHONE_NUMBER: "Please say the number digit by digit, or type it on your "
    "keypad, then press hash.",
    ClaimFieldType.TEXT: "A few words are enough.",
}
ANYTHING_ELSE = "Is there anything else I can do for you?"
KEYPAD_HINT = "You can also type it on your keypad, then press hash."
# A text field described as one of these ("policy number", "postcode") can be typed.
_TYPED_RE = re.compile(r"\b(?:numbers?|codes?|postcode|zip|pin)\b", re.IGNORECASE)
NO_AGENT = (
    "I'm sorry, no colleague can take the call on this line right now; "
    "I'll take a message so that someone calls you back."
)
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
        # "The customer reported a leak in their kitchen" → "… because you reported a leak
        # in your kitchen"; other descriptions are read as written, turned to the caller.
        said = _lower_first(to_second_person(body))
        if said.split(" ", 1)[0] in ("you", "your"):
            return f"I'm calling because {said}."
        return f"I'm calling about the following: {to_second_person(body)}."
    return f"I'm calling to {to_second_person(_lower_first(body))}."


_PERSON = (
    r"(?:customer|caller|client|policy ?holder|insured(?: person| party)?|user|claimant|"
    r"member|patient|callee)"
)
# Where "… of the customer" ends: not before "'s" or another noun ("of the customer's
# last visit" is "of your last visit").
_PHRASE_END = r"(?=$|[,.;:?!)]| (?:and|or|who|that|if|when|for|in|on|at|to|with|from)\b)"
_AUX = {"is": "are", "was": "were", "has": "have", "does": "do"}
_SECOND_PERSON_RE = (
    # "the e-mail address of the customer" → "your e-mail address"
    (
        re.compile(
            r"(?i)\b(?:the |an? )?((?:[\w-]+ ){0,3}?[\w-]+) of (?:the|our) " + _PERSON + _PHRASE_END
        ),
        lambda m: "your " + _lower_first(m.group(1)),
    ),
    (re.compile(r"(?i)\b(?:the |our |this )?" + _PERSON + r"'s\b"), lambda m: "your"),
    (re.compile(r"(?i)\b(?:his or her|his/her|her or his)\b"), lambda m: "your"),
    (re.compile(r"(?i)\b(?:him or her|him/her|he or she|he/she|she or he)\b"), lambda m: "you"),
    # "Customer e-mail" → "your e-mail", only before a noun a field is named after
    (
        re.compile(
            r"(?i)^(?:the )?" + _PERSON + r"(?= (?:e-?mail|phone|mobile|name|address|number|"
            r"date|account|reference|id)\b)"
        ),
        lambda m: "your",
    ),
    # "is the customer injured" → "are you injured"; "the customer is" → "you are"
    (
        re.compile(r"(?i)\b(is|was|has|does) (?:the|our) " + _PERSON + r"\b"),
        lambda m: _AUX[m.group(1).lower()] + " you",
    ),
    (
        re.compile(r"(?i)\b(?:the|our) " + _PERSON + r" (is|was|has|does)\b"),
        lambda m: "you " + _AUX[m.group(1).lower()],
    ),
    (re.compile(r"(?i)\b(?:the|our) " + _PERSON + r"\b"), lambda m: "you"),
    (re.compile(r"(?i)\btheir\b"), lambda m: "your"),
    (re.compile(r"(?i)\bthemselves\b"), lambda m: "yourself"),
    (re.compile(r"(?i)\bthem\b"), lambda m: "you"),
    (re.compile(r"(?i)\bthey (are|were|have|do)\b"), lambda m: "you " + m.group(1)),
    (re.compile(r"(?i)\bthey're\b"), lambda m: "you're"),
    (re.compile(r"(?i)\bthey\b"), lambda m: "you"),
)
# What a description says to the bot rather than about the value: "Ask the customer for",
# "Collect", and format notes ("in ISO 8601", "e.g. …") no caller needs to hear.
_INSTRUCTION_RE = re.compile(
    r"(?i)^(?:please )?(?:ask(?: (?:the|our) " + _PERSON + r")?(?: for| about)?|collect|get|"
    r"record|note|capture|obtain|request|enter|provide|find out)\s+"
)
_FORMAT_NOTE_RE = re.compile(
    r"(?i)\s*(?:\([^)]*\)|[,;]\s*(?:e\.g\.|eg\b|i\.e\.|for example|such as|"
    r"formatted|format\b|in (?:iso|e\.164|international|the format)|as (?:iso|e\.164)|"
    r"if (?:any|known|available)).*$)"
)


def to_second_person(text: str) -> str:
    """Words written about the caller, said to them: "help the customer file their claim"
    → "help you file your claim", "the customer's e-mail address" → "your e-mail address",
    "Is the customer injured?" → "Are you injured?"."""
    capital = text[:1].isupper()
    for pattern, replacement in _SECOND_PERSON_RE:
        text = pattern.sub(replacement, text)
    return text[:1].upper() + text[1:] if capital else text


def _topic(claim_field: ClaimField) -> str:
    """The field's description as a noun phrase for the caller, without instructions."""
    description = _FORMAT_NOTE_RE.sub("", claim_field.description.strip())
    description = _INSTRUCTION_RE.sub("", _strip_end(description))
    return to_second_person(description) or f"the {claim_field.name.replace('_', ' ')}"


def label(claim_field: ClaimField) -> str:
    """A short name for a field, written for an operator ("date of the incident", "email")."""
    if claim_field.description.strip().endswith("?"):
        return claim_field.name.replace("_", " ")
    description = _strip_end(claim_field.description.split(",", 1)[0])
    if description and len(description.split()) <= _LABEL_MAX_WORDS:
        return _lower_first(description)
    return claim_field.name.replace("_", " ")


def spoken_label(claim_field: ClaimField) -> str:
    """A field's short name as the caller hears it ("your e-mail address")."""
    return to_second_person(label(claim_field))


_QUESTION_START_RE = re.compile(
    r"(?i)^(?:(?:what|when|where|who|which|why|how)(?: \w+)? "
    r"(?:is|are|was|were|did|do|does|has|have|can|could|would|will|should)|"
    r"(?:is|are|was|were|did|do|does|has|have|can|could|will|would|should) "
    r"(?:the|our|this|that|their|there|they|he|she|it|you|any)\b)"
)


def question(claim_field: ClaimField) -> str:
    """How to ask the caller for a field, from its description: a question stays a
    question (said to the caller: "Is the customer injured?" → "Are you injured?"); a
    description becomes "Could you tell me …?" ("the customer's e-mail address" →
    "Could you tell me your e-mail address?")."""
    description = _FORMAT_NOTE_RE.sub("", claim_field.description.strip()).strip()
    if description.endswith("?"):
        return to_second_person(description)
    if _QUESTION_START_RE.match(description):  # "What is their date of birth"
        return to_second_person(_strip_end(description)) + "?"
    topic = _lower_first(_topic(claim_field))
    if topic.split(" ", 1)[0].lower() not in _DETERMINED:
        # "Date of the incident" → "the date of the incident"; "E-mail" → "your e-mail"
        owned = claim_field.type in (ClaimFieldType.EMAIL, ClaimFieldType.PHONE_NUMBER)
        topic = f"{'your' if owned else 'the'} {topic}"
    return f"Could you tell me {topic}?"


def can_be_typed(claim_field: ClaimField) -> bool:
    """Whether the caller could type the answer on a keypad: a phone number, or a text
    field described as a number or a code (a policy number, a postcode)."""
    if claim_field.type is ClaimFieldType.PHONE_NUMBER:
        return True
    described = f"{claim_field.name.replace('_', ' ')} {claim_field.description}"
    return claim_field.type is ClaimFieldType.TEXT and bool(_TYPED_RE.search(described))


def asking(claim_field: ClaimField) -> list[str]:
    """The question for a field, with the keypad hint when its answer can be typed."""
    return [question(claim_field), *([KEYPAD_HINT] if can_be_typed(claim_field) else [])]


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


def _worth_reading_back(value: str) -> bool:
    """A short name or reference ("John Smith", "AB-1234") is read back; a sentence of
    the caller's own words ("my laptop was stolen") is not: it would come back in the
    first person."""
    words = value.rstrip(".!?").split()
    return 0 < len(words) <= _ECHO_MAX_WORDS and all(
        w[:1].isupper() or any(c.isdigit() for c in w) for w in words
    )


def confirmation(stored: Sequence[tuple[ClaimField, str]]) -> str:
    """One short sentence for the values just stored: "Got it, the 16th of November 2026.",
    "Got it, the 3rd of March 2026 at 2:30 pm, and john.smith@example.com.", or for
    free text "Thank you, I've noted what happened." (the caller's words are not echoed)."""
    spoken = [
        spoken_value(f, v)
        for f, v in stored
        if f.type is not ClaimFieldType.TEXT or _worth_reading_back(v)
    ]
    noted = [f for f, v in stored if f.type is ClaimFieldType.TEXT and not _worth_reading_back(v)]
    listed = ", ".join(spoken[:-1]) + ", and " + spoken[-1] if len(spoken) > 1 else "".join(spoken)
    if not noted:
        return _end_sentence(f"Got it, {listed}")
    topic = spoken_label(noted[0]) if len(noted) == 1 else ""
    if len(topic.split()) < _NOTED_MIN_WORDS or "?" in noted[0].description:
        topic = "that"
    return _end_sentence(f"Thank you, I've noted {topic}" + (f", and {listed}" if listed else ""))


def _end_sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?")) else text + "."


def greeting(request: CallRequest) -> list[str]:
    return [
        f"Hello, this is {request.bot_name} from {request.bot_company}.",
        task_clause(request.task),
    ]


def welcome_back(request: CallRequest) -> list[str]:
    """The opening of a resumed conversation: it names the matter and asks whether to go
    on. It reads nothing stored back: the caller is known only by their number."""
    topic = _lower_first(to_second_person(_strip_end(request.task))) or "your file"
    return [
        f"Welcome back, this is {request.bot_name} from {request.bot_company}.",
        f"We were talking about this: {topic}.",
        RESUME_QUESTION,
    ]


RESUME_QUESTION = "Shall we continue where we left off?"


def recap(request: CallRequest, claim: dict[str, str], read_values: bool = True) -> list[str]:
    """A short summary of what was collected, and what is still missing. Free text in
    the caller's own words is named, not read back (see :func:`confirmation`); without
    ``read_values`` (a resumed call: the caller is unverified) no value is read back."""
    filled = [f for f in request.claim if f.name in claim]
    shown = [
        f
        for f in filled
        if read_values and (f.type is not ClaimFieldType.TEXT or _worth_reading_back(claim[f.name]))
    ]
    read = [f"{spoken_label(f)}: {spoken_value(f, claim[f.name])}" for f in shown]
    named = [spoken_label(f) for f in filled if f not in shown]
    sentences = [f"To sum up, I noted {'; '.join(read)}."] if read else []
    if named:
        lead = "I also noted" if read else "To sum up, I noted"
        sentences.append(f"{lead} {_listed(named)}.")
    missing = [spoken_label(f) for f in request.claim if f.name not in claim]
    if missing:
        sentences.append(f"We still need {', '.join(missing)}; you can send it to us later.")
    return sentences


def _listed(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def goodbye(request: CallRequest) -> list[str]:
    return [f"Thank you for your time. {request.bot_company} wishes you a good day, goodbye!"]


SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s+")


def split_sentences(content: str) -> list[str]:
    """Stored turn content back into the sentences it was spoken as."""
    return [s for s in SENTENCE_END_RE.split(content.strip()) if s]
