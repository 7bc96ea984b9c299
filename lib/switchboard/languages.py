"""Language tags, and which of them a deployment's speech providers serve.

``speech.languages`` in the configuration lists the languages the configured STT and
TTS can both serve; the speech service refuses to start when one of them cannot, so
the gateway (``POST /call``) and the brain (a mid-call switch) can trust the list
without asking the speech service.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# BCP 47, the subset speech providers use: language, optional script, optional region.
_LANG_RE = re.compile(r"^([a-z]{2,3})(?:-([a-z]{4}))?(?:-([a-z]{2}|[0-9]{3}))?$", re.IGNORECASE)


def canonical_lang(value: str) -> str:
    """``"EN-us"`` → ``"en-US"``; raises ValueError for anything that is not a tag."""
    match = _LANG_RE.match(value.strip())
    if match is None:
        raise ValueError('must be a BCP 47 language tag such as "en-US"')
    language, script, region = match.groups()
    parts = [language.lower()]
    if script:
        parts.append(script.title())
    if region:
        parts.append(region.upper())
    return "-".join(parts)


def primary(lang: str) -> str:
    """``"fr-FR"`` → ``"fr"``."""
    return lang.split("-", 1)[0].lower()


def served_lang(lang: str, languages: Iterable[str]) -> str | None:
    """The served tag ``lang`` asks for: itself when listed, else the first listed tag of
    the same language when ``lang`` names no region (``"fr"`` → ``"fr-FR"``); None when
    the providers cannot serve it. An empty list serves everything as asked."""
    served = list(languages)
    if not served:
        return lang
    try:
        wanted = canonical_lang(lang)
    except ValueError:
        return None
    if wanted in served:
        return wanted
    if "-" not in wanted:
        return next((tag for tag in served if primary(tag) == wanted), None)
    return None
