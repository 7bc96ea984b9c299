"""The ``POST /call`` body: validated field by field, with messages a caller can act on.

Validators raise ``ValueError`` with a message that does not repeat the field
name; :mod:`switchboard_gateway.validation_messages` prefixes the field path
(``claim[2].type must be one of …``).
"""

from __future__ import annotations

import functools
import re
import zoneinfo
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from switchboard.claims import check_field_name
from switchboard.domain import CallRequest, ClaimField, ClaimFieldType, LangOption
from switchboard.errors import InvalidArgument
from switchboard.languages import canonical_lang
from switchboard.phones import E164_EXAMPLE, parse_e164, timezone_for_number
from switchboard_gateway import defaults

MAX_CLAIM_FIELDS = 50
MIN_PROSODY_RATE = 0.75
MAX_PROSODY_RATE = 1.25
CLAIM_TYPES = tuple(t.value for t in ClaimFieldType)

_VOICE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:()-]{0,99}$")
_LANG_HINT = (
    'must be a language tag such as "en-US", or an object like '
    '{"default_short_code": "en-US", "availables": [...]}'
)


def e164(value: str) -> str:
    """``value`` in E.164; the error message leaves the field name to the caller."""
    try:
        return parse_e164(value, what="")
    except InvalidArgument as exc:
        raise ValueError(exc.message.strip()) from exc


def lone_surrogate_at(value: Any, where: str = "") -> str | None:
    """The path (``lang.availables[0]``) of the first key or string holding a lone UTF-16
    surrogate (JSON allows ``"\\ud800"``; UTF-8 cannot carry it); None when there is none."""
    if isinstance(value, str):
        return where if _SURROGATE.search(value) else None
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = lone_surrogate_at(item, f"{where}[{index}]")
            if found is not None:
                return found
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and _SURROGATE.search(key):
                return f"a key of {where}" if where else "a key of the body"
            found = lone_surrogate_at(item, f"{where}.{key}" if where else str(key))
            if found is not None:
                return found
    return None


_SURROGATE = re.compile("[\ud800-\udfff]")

_LANG_OBJECT_KEYS = frozenset({"default_short_code", "availables"})
_LANG_ENTRY_KEYS = frozenset(
    {"short_code", "voice", "pronunciations_en", "custom_voice_endpoint_id"}
)


def lang_of_object(value: dict[str, Any]) -> str:
    """The default code of the reference's language object, checked against its entries."""
    unknown = sorted(set(value) - _LANG_OBJECT_KEYS)
    if unknown:
        raise ValueError(f"{unknown[0]} is not a known field; {_LANG_HINT}")
    code = value.get("default_short_code")
    if not isinstance(code, str):
        raise ValueError(_LANG_HINT)
    try:
        default = canonical_lang(code)
    except ValueError as exc:
        raise ValueError(f"default_short_code {exc}") from exc
    availables = value.get("availables", [])
    if not isinstance(availables, list):
        raise ValueError("availables must be a list of {short_code, voice} objects")
    codes = []
    for index, entry in enumerate(availables):
        where = f"availables[{index}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("short_code"), str):
            raise ValueError(f"{where} must be an object with a short_code such as en-US")
        if set(entry) - _LANG_ENTRY_KEYS:
            raise ValueError(f"{where}.{sorted(set(entry) - _LANG_ENTRY_KEYS)[0]} is not known")
        if not isinstance(entry.get("voice", ""), str):
            raise ValueError(f"{where}.voice must be a string")
        pronunciations = entry.get("pronunciations_en", [])
        if not isinstance(pronunciations, list) or not all(
            isinstance(p, str) for p in pronunciations
        ):
            raise ValueError(f"{where}.pronunciations_en must be a list of strings")
        if not isinstance(entry.get("custom_voice_endpoint_id") or "", str):
            raise ValueError(f"{where}.custom_voice_endpoint_id must be a string")
        try:
            codes.append(canonical_lang(entry["short_code"]))
        except ValueError as exc:
            raise ValueError(f"{where}.short_code {exc}") from exc
    if codes and default not in codes:
        raise ValueError(
            f"default_short_code {default} is not among availables ({', '.join(codes)})"
        )
    return default


def lang_options(value: dict[str, Any]) -> tuple[LangOption, ...]:
    """The entries of a language object :func:`lang_of_object` accepted, kept for the call."""
    return tuple(
        LangOption(
            short_code=canonical_lang(entry["short_code"]),
            voice=entry.get("voice", ""),
            pronunciations_en=tuple(entry.get("pronunciations_en", [])),
            custom_voice_endpoint_id=entry.get("custom_voice_endpoint_id") or "",
        )
        for entry in value.get("availables", [])
    )


@functools.cache
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def iana_timezone(value: str) -> str:
    if value not in _timezones():
        raise ValueError("must be an IANA timezone name, e.g. Europe/Paris or America/New_York")
    return value


class ClaimFieldIn(BaseModel):
    """One field the bot must collect."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(
        description="A lower-case identifier, unique in the claim", examples=["incident_date"]
    )
    type: str = Field(
        description="How the value is validated and normalised",
        json_schema_extra={"enum": list(CLAIM_TYPES)},
    )
    description: str = Field("", max_length=500, description="How to ask for it, in plain words")

    @field_validator("name")
    @classmethod
    def _name_is_identifier(cls, value: str) -> str:
        try:
            check_field_name(value)
        except InvalidArgument as exc:
            raise ValueError(exc.message) from exc
        return value

    @field_validator("type")
    @classmethod
    def _type_is_known(cls, value: str) -> str:
        if value not in CLAIM_TYPES:
            raise ValueError(f"must be one of {', '.join(CLAIM_TYPES)}")
        return value

    def to_domain(self) -> ClaimField:
        return ClaimField(
            name=self.name, type=ClaimFieldType(self.type), description=self.description
        )


def _default_claim() -> list[ClaimFieldIn]:
    return [
        ClaimFieldIn(name=f.name, type=f.type.value, description=f.description)
        for f in defaults.DEFAULT_CLAIM
    ]


LangField = Annotated[
    str,
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "examples": ["en-US"]},
                {
                    "type": "object",
                    "properties": {
                        "default_short_code": {"type": "string"},
                        "availables": {"type": "array", "items": {"type": "object"}},
                    },
                    "required": ["default_short_code"],
                },
            ],
            "description": "BCP 47 tag, or the reference system's language object",
        }
    ),
]


class CallInitiate(BaseModel):
    """What a client asks for: who the bot is, whom it calls, why, and what to collect."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    bot_company: str = Field(min_length=1, max_length=200, examples=["Contoso Insurance"])
    bot_name: str = Field(min_length=1, max_length=100, examples=["Joe"])
    phone_number: str = Field(description="The callee, E.164", examples=[E164_EXAMPLE])
    agent_phone_number: str = Field(
        description="Where to transfer the call to a human, E.164", examples=["+14155550199"]
    )
    task: str = Field(defaults.DEFAULT_TASK, min_length=1, max_length=8000)
    claim: list[ClaimFieldIn] = Field(
        default_factory=_default_claim,
        max_length=MAX_CLAIM_FIELDS,
        description="Fields to collect; the nine insurance fields of the reference when omitted",
    )
    lang: LangField = defaults.DEFAULT_LANG
    prosody_rate: float = Field(
        defaults.DEFAULT_PROSODY_RATE,
        strict=True,
        description="Speaking rate",
        json_schema_extra={"minimum": MIN_PROSODY_RATE, "maximum": MAX_PROSODY_RATE},
    )
    timezone: str | None = Field(
        None,
        max_length=64,
        description="IANA name; derived from phone_number when omitted",
        examples=["America/Los_Angeles"],
    )
    voice: str = Field("", max_length=100, description="Provider voice; its default when empty")
    callback_url: str | None = Field(
        None,
        max_length=2048,
        description=(
            "Where the call's report is posted, signed, once it ended (after its synthesis); "
            "https:// to a public host"
        ),
        examples=["https://hooks.example.com/switchboard/calls"],
    )

    _langs: tuple[LangOption, ...] = PrivateAttr(default=())

    @model_validator(mode="wrap")
    @classmethod
    def _keep_availables(cls, data: Any, handler: ModelWrapValidatorHandler[CallInitiate]) -> Any:
        """``lang.availables`` (voices, pronunciations, custom voice) stays with the call."""
        model = handler(data)
        if isinstance(data, dict) and isinstance(data.get("lang"), dict):
            model._langs = lang_options(data["lang"])
        return model

    @property
    def langs(self) -> tuple[LangOption, ...]:
        return self._langs

    def unserved_langs(self, served: list[str]) -> list[str]:
        """The languages asked for (``lang`` and each of ``availables``) that the speech
        providers do not serve."""
        asked = [self.lang, *(o.short_code for o in self._langs)]
        return [lang for lang in dict.fromkeys(asked) if lang not in served]

    @model_validator(mode="before")
    @classmethod
    def _voice_from_lang_object(cls, data: Any) -> Any:
        where = lone_surrogate_at(data)
        if where is not None:
            # Checked first: no later message may quote such a string (it cannot be encoded).
            raise ValueError(
                f"{where or 'the body'} holds a lone UTF-16 surrogate; send valid Unicode"
            )
        """The reference names the voice in ``lang.availables``; use it when no voice is set."""
        if (
            not isinstance(data, dict)
            or data.get("voice")
            or not isinstance(data.get("lang"), dict)
        ):
            return data
        lang = data["lang"]
        availables = lang.get("availables")
        if not isinstance(availables, list):
            return data
        for entry in availables:
            if (
                isinstance(entry, dict)
                and entry.get("short_code") == lang.get("default_short_code")
                and isinstance(entry.get("voice"), str)
            ):
                return {**data, "voice": entry["voice"]}
        return data

    @field_validator("phone_number", "agent_phone_number")
    @classmethod
    def _is_e164(cls, value: str) -> str:
        return e164(value)

    @field_validator("lang", mode="before")
    @classmethod
    def _lang_code(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return lang_of_object(value)
        if not isinstance(value, str):
            raise ValueError(_LANG_HINT)
        try:
            return canonical_lang(value)
        except ValueError as exc:
            raise ValueError(_LANG_HINT) from exc

    @field_validator("prosody_rate")
    @classmethod
    def _prosody_in_range(cls, value: float) -> float:
        if not MIN_PROSODY_RATE <= value <= MAX_PROSODY_RATE:
            raise ValueError(f"must be between {MIN_PROSODY_RATE} and {MAX_PROSODY_RATE}")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone_exists(cls, value: str | None) -> str | None:
        return iana_timezone(value) if value else None

    @field_validator("voice")
    @classmethod
    def _voice_is_a_name(cls, value: str) -> str:
        if value and not _VOICE_RE.match(value):
            raise ValueError(
                "must be a voice name (letters, digits, '-', '_', '.', ':'), e.g. en-US-AvaNeural"
            )
        return value

    @field_validator("claim")
    @classmethod
    def _names_unique(cls, value: list[ClaimFieldIn]) -> list[ClaimFieldIn]:
        first_index: dict[str, int] = {}
        for index, field in enumerate(value):
            if field.name in first_index:
                raise ValueError(
                    f"field name {field.name!r} is used twice (claim[{first_index[field.name]}] "
                    f"and claim[{index}]); names must be unique"
                )
            first_index[field.name] = index
        return value

    def to_domain(self) -> CallRequest:
        """The request the dialer gets; the timezone is derived from the number when omitted."""
        return CallRequest(
            bot_company=self.bot_company,
            bot_name=self.bot_name,
            phone_number=self.phone_number,
            agent_phone_number=self.agent_phone_number,
            task=self.task,
            claim=tuple(f.to_domain() for f in self.claim),
            lang=self.lang,
            prosody_rate=self.prosody_rate,
            timezone=self.timezone or timezone_for_number(self.phone_number),
            voice=self.voice,
            langs=self._langs,
        )
