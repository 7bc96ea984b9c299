"""French (fr-FR) calls: values read from French speech, and the bot's French phrases."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from switchboard.config import ConfigError
from switchboard.converse import ConversationStart, EndCallRequest, SpeechSettings
from switchboard.domain import CallState, ClaimField, ClaimFieldType
from switchboard_brain import phrases
from switchboard_brain.extract.french import english_forms, speak_datetime_fr, speak_phone_fr
from switchboard_brain.extract.intents import Intent, detect_intent, yes_no
from switchboard_brain.policy.form_candidates import Reading, find_candidates
from switchboard_testing.brain_fakes import InMemoryStore, Reply, tool
from switchboard_testing.form_helpers import collect, open_session, said, turn
from switchboard_testing.llm_helpers import Rig

PARIS_NOW = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)  # a Tuesday
CLAIM = (
    ClaimField(
        name="date_sinistre", type=ClaimFieldType.DATETIME, description="la date du sinistre"
    ),
    ClaimField(name="email", type=ClaimFieldType.EMAIL, description="votre adresse e-mail"),
    ClaimField(name="telephone", type=ClaimFieldType.PHONE_NUMBER, description="votre numéro"),
    ClaimField(name="description", type=ClaimFieldType.TEXT, description="ce qui s'est passé"),
)


@pytest.mark.parametrize(
    ("said_as", "forms"),
    [
        ("zéro six, douze, trente-quatre, cinquante-six, soixante-dix-huit", "0 6, 12, 34, 56, 78"),
        ("quatre-vingt-douze, soixante et onze, quatre-vingt-dix-sept", "92, 71, 97"),
        ("le trois mars à quatorze heures trente", "the third march at 14:30"),
        ("le premier janvier deux mille vingt-six", "the 1st january 2026"),
        ("le vingt-deux mai", "the twenty second may"),
        ("lundi dernier vers dix heures et demie", "last monday around 10:30"),
        ("avant-hier soir", "the day before yesterday evening"),
        ("jean point dupont arobase exemple point fr", "jean dot dupont at exemple dot fr"),
    ],
)
def test_french_speech_is_rewritten_into_the_forms_the_extractors_read(
    said_as: str, forms: str
) -> None:
    assert english_forms(said_as) == forms


def _values(text: str, asked: str) -> dict[str, str]:
    reading = Reading(PARIS_NOW.astimezone(_paris()), "FR", "+33142685300", "fr-FR")
    field = next(f for f in CLAIM if f.name == asked)
    found = find_candidates(text, asked=field, open_fields=CLAIM, filled={}, reading=reading)
    return {c.field: c.value for c in found}


def _paris():  # type: ignore[no-untyped-def]
    from zoneinfo import ZoneInfo

    return ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(
    ("text", "asked", "expected"),
    [
        ("Le trois mars à quatorze heures trente.", "date_sinistre", "2026-03-03T14:30:00+01:00"),
        ("C'était hier.", "date_sinistre", "2026-11-23T00:00:00+01:00"),
        (
            "Le trois mars deux mille vingt-six à quatorze heures trente.",
            "date_sinistre",
            "2026-03-03T14:30:00+01:00",
        ),
        ("Lundi dernier.", "date_sinistre", "2026-11-23T00:00:00+01:00"),
        ("jean point dupont arobase exemple point fr", "email", "jean.dupont@exemple.fr"),
        ("C'est jean point dupont arobase exemple point fr.", "email", "jean.dupont@exemple.fr"),
        (
            "Mon adresse est jean tiret dupont arobase exemple point fr",
            "email",
            "jean-dupont@exemple.fr",
        ),
        (
            "zéro six, douze, trente-quatre, cinquante-six, soixante-dix-huit",
            "telephone",
            "+33612345678",
        ),
        (
            "zéro six douze trente-quatre cinquante-six soixante-dix-huit",
            "telephone",
            "+33612345678",
        ),
    ],
)
def test_dates_emails_and_phone_numbers_are_read_from_french_speech(
    text: str, asked: str, expected: str
) -> None:
    assert _values(text, asked)[asked] == expected


def test_free_text_in_french_is_kept_as_the_caller_said_it() -> None:
    said_as = "Un tuyau a éclaté sous l'évier."
    assert _values(said_as, "description") == {"description": said_as}


def test_french_control_words_are_understood() -> None:
    assert detect_intent("Je voudrais parler à un conseiller") is Intent.HUMAN
    assert detect_intent("Non merci, au revoir") is Intent.GOODBYE
    assert detect_intent("Pardon ?") is Intent.REPEAT
    assert detect_intent("Je ne sais pas") is Intent.DONT_KNOW
    assert (yes_no("Oui, bien sûr"), yes_no("Non")) == (True, False)


def test_values_are_read_back_the_french_way() -> None:
    assert speak_datetime_fr(datetime(2026, 3, 3, 14, 30)) == "le 3 mars 2026 à 14 h 30"
    assert speak_datetime_fr(datetime(2026, 5, 1)) == "le 1er mai 2026"
    assert speak_phone_fr("+33612345678") == "06 12 34 56 78"


async def test_a_french_call_fills_its_claim_in_french_from_greeting_to_goodbye() -> None:
    store = InMemoryStore()
    store.new_call(
        lang="fr-FR",
        bot_name="Amélie",
        phone_number="+33612345678",
        timezone="Europe/Paris",
        task="Déclarer le dégât des eaux dans la cuisine.",
        claim=CLAIM,
    )
    session = await open_session(store)

    greeting = said(await collect(session.start(ConversationStart("call-1"))))
    assert greeting.startswith("Bonjour, ici Amélie de Contoso Insurance.")
    assert greeting.endswith("Pouvez-vous me donner la date du sinistre ?")

    answer = said(await turn(session, "t1", "Le trois mars à quatorze heures trente."))
    assert answer.startswith("C'est noté : le 3 mars 2026 à 14 h 30.")
    answer = said(await turn(session, "t2", "jean point dupont arobase exemple point fr"))
    assert "jean.dupont@exemple.fr" in answer
    answer = said(
        await turn(
            session, "t3", "zéro six, douze, trente-quatre, cinquante-six, soixante-dix-huit"
        )
    )
    assert "06 12 34 56 78" in answer
    answer = said(await turn(session, "t4", "Un tuyau a éclaté sous l'évier."))
    assert answer.startswith("Merci, j'ai noté") and "Pour résumer" in answer
    closing = await turn(session, "t5", "Non merci, au revoir.")

    assert said(closing).endswith("au revoir !")
    assert any(isinstance(e, EndCallRequest) for e in closing)
    assert store.calls["call-1"].claim == {
        "date_sinistre": "2026-03-03T14:30:00+01:00",
        "email": "jean.dupont@exemple.fr",
        "telephone": "+33612345678",
        "description": "Un tuyau a éclaté sous l'évier.",
    }


def test_a_language_without_a_phrase_file_falls_back_to_english() -> None:
    assert phrases.get("still_there", "de-DE") == "Are you still there?"
    assert phrases.get("still_there", "fr-CA") == "Êtes-vous toujours là ?"


def test_an_operator_file_overrides_some_phrases_and_keeps_the_rest(tmp_path: Path) -> None:
    (tmp_path / "fr.yaml").write_text('goodbye: "À bientôt chez {bot_company} !"\n')
    phrases.use_override_dir(tmp_path)
    try:
        assert phrases.get("goodbye", "fr-FR", bot_company="Contoso") == "À bientôt chez Contoso !"
        assert phrases.get("still_there", "fr-FR") == "Êtes-vous toujours là ?"
    finally:
        phrases.use_override_dir(None)
    assert phrases.get("goodbye", "fr-FR", bot_company="X").startswith("Merci pour votre temps.")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('goodby: "Bye"\n', "unknown phrase 'goodby'"),
        ('goodbye: "Bye {caller_name}"\n', "{caller_name}, which is never filled in"),
        ("- a list\n", "must be a mapping"),
    ],
)
def test_a_broken_operator_file_is_refused_at_startup(
    tmp_path: Path, content: str, message: str
) -> None:
    (tmp_path / "en.yaml").write_text(content)
    with pytest.raises(ConfigError, match=message.replace("{", r"\{").replace("}", r"\}")):
        phrases.use_override_dir(tmp_path)
    phrases.use_override_dir(None)


async def test_a_switch_to_a_language_the_line_cannot_speak_keeps_the_call_and_says_so() -> None:
    rig = Rig()
    rig.call.state = CallState.IN_PROGRESS
    rig.fast.replies = [
        Reply(tools=[tool("speech_lang", lang="ja-JP", customer_response="もちろん.")]),
        Reply("Shall we go on?"),
    ]
    session = await rig.open()
    session.languages = ("en-US", "fr-FR")

    events = await rig.say("Can we speak Japanese?")

    assert not any(isinstance(e, SpeechSettings) for e in events)
    assert rig.call.lang == ""  # still the request's language
    assert "I cannot speak that language on this line" in said(events)
    result = rig.fast.requests[1].messages[-1].content or ""
    assert "cannot speak ja-JP" in result and "en-US, fr-FR" in result


async def test_a_switch_to_a_served_language_names_the_served_tag() -> None:
    rig = Rig()
    rig.call.state = CallState.IN_PROGRESS
    rig.fast.replies = [
        Reply(tools=[tool("speech_lang", lang="fr", customer_response="Bien sûr.")]),
        Reply("Voilà."),
    ]
    session = await rig.open()
    session.languages = ("en-US", "fr-FR")

    events = await rig.say("En français, s'il vous plaît")

    assert [e.lang for e in events if isinstance(e, SpeechSettings)] == ["fr-FR"]
    assert rig.call.lang == "fr-FR"
