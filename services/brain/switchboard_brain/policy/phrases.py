"""The form policy's wording: greetings, questions, confirmations, recap, goodbye.

The fixed words come from the phrase files (:mod:`switchboard_brain.phrases`), in the
call's current language. The rules that turn a field description into a question said
to the caller ("the customer's e-mail" → "your e-mail") are English grammar: in another
language the description is used as the operator wrote it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from switchboard.domain import CallRequest, ClaimField, ClaimFieldType
from switchboard_brain import phrases
from switchboard_brain.extract.dates import speak_datetime
from switchboard_brain.extract.french import speak_datetime_fr, speak_phone_fr
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
# A text field described as one of these ("policy number", "postcode") can be typed.
_TYPED_RE = re.compile(r"\b(?:numbers?|codes?|postcode|zip|pin)\b", re.IGNORECASE)


def _strip_end(text: str) -> str:
    return text.strip().rstrip(".!;: ")


def _lower_first(text: str) -> str:
    """Lower-cases a leading capital to continue a sentence, but keeps acronyms ("VIN")."""
    acronym = len(text) > 1 and text[0].isupper() and text[1].isupper()
    return text if acronym else text[:1].lower() + text[1:]


def task_clause(task: str, lang: str = "en-US") -> str:
    """The task as a sentence after "I'm calling …"."""
    body = _strip_end(task)
    first = body.split(" ", 1)[0].lower() if body else ""
    if not body:
        return phrases.get("calling_about_file", lang)
    if not phrases.is_english(lang):
        return phrases.get("calling_about", lang, task=_lower_first(body))
    if first in _NOT_A_VERB:
        # "The customer reported a leak in their kitchen" → "… because you reported a leak
        # in your kitchen"; other descriptions are read as written, turned to the caller.
        said = _lower_first(to_second_person(body))
        if said.split(" ", 1)[0] in ("you", "your"):
            return phrases.get("calling_because", lang, task=said)
        return phrases.get("calling_about", lang, task=to_second_person(body))
    return phrases.get("calling_to", lang, task=to_second_person(_lower_first(body)))


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


def _topic(claim_field: ClaimField, lang: str = "en-US") -> str:
    """The field's description as a noun phrase for the caller, without instructions."""
    if not phrases.is_english(lang):
        return _strip_end(claim_field.description) or claim_field.name.replace("_", " ")
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


def spoken_label(claim_field: ClaimField, lang: str = "en-US") -> str:
    """A field's short name as the caller hears it ("your e-mail address")."""
    if not phrases.is_english(lang):
        return label(claim_field)
    return to_second_person(label(claim_field))


_QUESTION_START_RE = re.compile(
    r"(?i)^(?:(?:what|when|where|who|which|why|how)(?: \w+)? "
    r"(?:is|are|was|were|did|do|does|has|have|can|could|would|will|should)|"
    r"(?:is|are|was|were|did|do|does|has|have|can|could|will|would|should) "
    r"(?:the|our|this|that|their|there|they|he|she|it|you|any)\b)"
)


def question(claim_field: ClaimField, lang: str = "en-US") -> str:
    """How to ask the caller for a field, from its description: a question stays a
    question (said to the caller: "Is the customer injured?" → "Are you injured?"); a
    description becomes "Could you tell me …?" ("the customer's e-mail address" →
    "Could you tell me your e-mail address?")."""
    if not phrases.is_english(lang):
        if claim_field.description.strip().endswith("?"):
            return claim_field.description.strip()
        return phrases.get("ask_field", lang, topic=_lower_first(_topic(claim_field, lang)))
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
    return phrases.get("ask_field", lang, topic=topic)


def can_be_typed(claim_field: ClaimField) -> bool:
    """Whether the caller could type the answer on a keypad: a phone number, or a text
    field described as a number or a code (a policy number, a postcode)."""
    if claim_field.type is ClaimFieldType.PHONE_NUMBER:
        return True
    described = f"{claim_field.name.replace('_', ' ')} {claim_field.description}"
    return claim_field.type is ClaimFieldType.TEXT and bool(_TYPED_RE.search(described))


def asking(claim_field: ClaimField, lang: str = "en-US") -> list[str]:
    """The question for a field, with the keypad hint when its answer can be typed."""
    hint = [phrases.get("keypad_hint", lang)] if can_be_typed(claim_field) else []
    return [question(claim_field, lang), *hint]


def rephrase(claim_field: ClaimField, failures: int, lang: str = "en-US") -> list[str]:
    """Asking again after an answer that could not be used."""
    sorry = phrases.get("sorry_first" if failures <= 1 else "sorry_again", lang)
    how = phrases.get(f"rephrase_{claim_field.type.value}", lang)
    return [sorry, question(claim_field, lang), how]


def spoken_value(claim_field: ClaimField, value: str, lang: str = "en-US") -> str:
    """A stored value as the bot reads it back."""
    english = phrases.is_english(lang)
    match claim_field.type:
        case ClaimFieldType.DATETIME:
            try:
                moment = datetime.fromisoformat(value)
            except ValueError:
                return value
            return speak_datetime(moment) if english else speak_datetime_fr(moment)
        case ClaimFieldType.PHONE_NUMBER:
            return speak_phone(value) if english else speak_phone_fr(value)
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


def confirmation(stored: Sequence[tuple[ClaimField, str]], lang: str = "en-US") -> str:
    """One short sentence for the values just stored: "Got it, the 16th of November 2026.",
    "Got it, the 3rd of March 2026 at 2:30 pm, and john.smith@example.com.", or for
    free text "Thank you, I've noted what happened." (the caller's words are not echoed)."""
    spoken = [
        spoken_value(f, v, lang)
        for f, v in stored
        if f.type is not ClaimFieldType.TEXT or _worth_reading_back(v)
    ]
    noted = [f for f, v in stored if f.type is ClaimFieldType.TEXT and not _worth_reading_back(v)]
    and_ = phrases.get("list_and", lang)
    listed = (
        ", ".join(spoken[:-1]) + f", {and_} " + spoken[-1] if len(spoken) > 1 else "".join(spoken)
    )
    if not noted:
        return _end_sentence(phrases.get("got_it", lang, values=_strip_end(listed)))
    topic = spoken_label(noted[0], lang) if len(noted) == 1 else ""
    if len(topic.split()) < _NOTED_MIN_WORDS or "?" in noted[0].description:
        topic = phrases.get("noted_that", lang)
    if not listed:
        return phrases.get("noted", lang, topic=topic)
    return _end_sentence(phrases.get("noted_and", lang, topic=topic, values=_strip_end(listed)))


def _end_sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?")) else text + "."


def greeting(request: CallRequest, lang: str = "") -> list[str]:
    lang = lang or request.lang
    return [
        phrases.get("greeting", lang, bot_name=request.bot_name, bot_company=request.bot_company),
        task_clause(request.task, lang),
    ]


def welcome_back(request: CallRequest, lang: str = "") -> list[str]:
    """The opening of a resumed conversation: it names the matter and asks whether to go
    on. It reads nothing stored back: the caller is known only by their number."""
    lang = lang or request.lang
    task = _strip_end(request.task)
    topic = _lower_first(to_second_person(task) if phrases.is_english(lang) else task)
    return [
        phrases.get(
            "welcome_back", lang, bot_name=request.bot_name, bot_company=request.bot_company
        ),
        phrases.get("were_talking_about", lang, topic=topic or phrases.get("your_file", lang)),
        phrases.get("resume_question", lang),
    ]


def recap(
    request: CallRequest, claim: dict[str, str], read_values: bool = True, lang: str = ""
) -> list[str]:
    """A short summary of what was collected, and what is still missing. Free text in
    the caller's own words is named, not read back (see :func:`confirmation`); without
    ``read_values`` (a resumed call: the caller is unverified) no value is read back."""
    filled = [f for f in request.claim if f.name in claim]
    shown = [
        f
        for f in filled
        if read_values and (f.type is not ClaimFieldType.TEXT or _worth_reading_back(claim[f.name]))
    ]
    lang = lang or request.lang
    read = [f"{spoken_label(f, lang)}: {spoken_value(f, claim[f.name], lang)}" for f in shown]
    named = [spoken_label(f, lang) for f in filled if f not in shown]
    sentences = [phrases.get("recap_read", lang, values="; ".join(read))] if read else []
    if named:
        key = "recap_also" if read else "recap_named"
        sentences.append(phrases.get(key, lang, topics=_listed(named, lang)))
    missing = [spoken_label(f, lang) for f in request.claim if f.name not in claim]
    if missing:
        sentences.append(phrases.get("recap_missing", lang, topics=", ".join(missing)))
    return sentences


def _listed(items: list[str], lang: str) -> str:
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + f" {phrases.get('list_and', lang)} " + items[-1]


def goodbye(request: CallRequest, lang: str = "") -> list[str]:
    return [phrases.get("goodbye", lang or request.lang, bot_company=request.bot_company)]


SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s+")


def split_sentences(content: str) -> list[str]:
    """Stored turn content back into the sentences it was spoken as."""
    return [s for s in SENTENCE_END_RE.split(content.strip()) if s]
