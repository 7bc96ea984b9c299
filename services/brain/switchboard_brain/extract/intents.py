"""What the caller wants, beyond answering: repeat, a human, goodbye, "I don't know", yes/no."""

from __future__ import annotations

import re
from enum import StrEnum


class Intent(StrEnum):
    """A control intent the form policy acts on before reading an answer."""

    HUMAN = "human"
    GOODBYE = "goodbye"
    REPEAT = "repeat"
    DONT_KNOW = "dont_know"


_APOSTROPHE_RE = re.compile("[\u2019`]")  # typographic apostrophes from some STT engines
_PEOPLE = (
    r"(?:a |an |the |some |real |actual |live )*(?:person|human|agent|someone|somebody|"
    r"representative|operator|advisor|adviser|colleague|manager|people)"
)
_RULES: tuple[tuple[Intent, re.Pattern[str]], ...] = (
    (
        Intent.HUMAN,
        re.compile(
            r"\b(?:talk|speak|chat|connect|transfer|put|get)(?: me)?(?: through)?"
            r" (?:to|with|me to|me with)? ?"
            + _PEOPLE
            + r"\b|^\W*(?:a |an )?(?:human|agent|operator|representative|real person)"
            r"\W*(?:please)?\W*$"
        ),
    ),
    (
        Intent.GOODBYE,
        re.compile(
            r"\b(?:good ?bye|bye|bye bye|that'?s all|that is all|that'?s it for now|hang up|"
            r"i (?:have|need|got) to go|gotta go|talk to you later|see you)\b"
        ),
    ),
    (
        Intent.REPEAT,
        re.compile(
            r"\b(?:repeat|say (?:that|it) again|come again|pardon|"
            r"(?:didn'?t|did not|couldn'?t|could not) (?:catch|hear|get|understand)|"
            r"what did you say|what was the question|sorry what|"
            r"one more time)\b|^\W*(?:sorry\W*)?(?:what|sorry|huh|excuse me)\W*$"
        ),
    ),
    (
        Intent.DONT_KNOW,
        re.compile(
            r"\b(?:i )?(?:don'?t|do not|dunno|no longer)"
            r" (?:know|remember|recall|have (?:it|one|that))\b|"
            r"\b(?:no idea|not sure|can'?t remember|cannot remember|can'?t recall|"
            r"skip (?:it|this|that)|rather not say|prefer not to say)\b|"
            r"^\W*(?:pass|skip|next question)\W*$"
        ),
    ),
)
# French callers (fr-FR): the same intents, matched after the English rules.
_PERSONNE = (
    r"(?:un |une |le |la |des )?(?:conseill[eè]re?|humain|personne|agent|"
    r"op[ée]rat(?:eur|rice)|quelqu'un|responsable)"
)
_RULES_FR: tuple[tuple[Intent, re.Pattern[str]], ...] = (
    (
        Intent.HUMAN,
        re.compile(
            r"\b(?:parler|discuter|passer|transf[ée]rer|mettre en relation)(?: moi)?"
            r" (?:à|a|avec)? ?" + _PERSONNE + r"\b|^\W*(?:un )?(?:conseiller|humain)\W*$"
        ),
    ),
    (
        Intent.GOODBYE,
        re.compile(
            r"\b(?:au revoir|c'est tout|bonne journ[ée]e|bonne soir[ée]e|[àa] bient[ôo]t)\b"
        ),
    ),
    (
        Intent.REPEAT,
        re.compile(
            r"\b(?:r[ée]p[ée]te[rz]?|vous pouvez r[ée]p[ée]ter|je n'ai pas (?:compris|entendu)|"
            r"j'ai pas (?:compris|entendu))\b|^\W*(?:pardon|comment|quoi)\W*$"
        ),
    ),
    (
        Intent.DONT_KNOW,
        re.compile(
            r"\b(?:je (?:ne )?(?:sais|sait) pas|je (?:ne )?m'en souviens pas|aucune id[ée]e|"
            r"je ne me souviens (?:pas|plus)|passons|je pr[ée]f[èe]re ne pas (?:le )?dire)\b"
        ),
    ),
)
_OUI_RE = re.compile(
    r"^\W*(?:oui|ouais|ok|d'accord|bien s[ûu]r|exactement|tout [àa] fait|absolument|"
    r"c'est [çc]a|volontiers|allez-y|allons-y)\b"
)
_NON_RE = re.compile(r"^\W*(?:non|pas vraiment|pas du tout)\b")
_YES_RE = re.compile(
    r"^\W*(?:yes|yeah|yep|yup|sure|correct|right|that'?s right|exactly|absolutely|of course|"
    r"ok|okay|affirmative|indeed|uh huh)\b"
)
_NO_RE = re.compile(
    r"^\W*(?:no|nope|nah|not really|incorrect|wrong|that'?s wrong|negative)\b(?! idea)"
)


def _clean(text: str) -> str:
    return _APOSTROPHE_RE.sub("'", text.lower()).strip()


def detect_intent(text: str) -> Intent | None:
    """The first control intent in ``text`` (human > goodbye > repeat > don't know)."""
    lowered = _clean(text)
    for intent, pattern in (*_RULES, *_RULES_FR):
        if pattern.search(lowered):
            return intent
    return None


def yes_no(text: str) -> bool | None:
    """True for a yes, False for a no, None when the answer is neither."""
    lowered = _clean(text)
    if _NO_RE.search(lowered) or _NON_RE.search(lowered):
        return False
    if _YES_RE.search(lowered) or _OUI_RE.search(lowered):
        return True
    return None
