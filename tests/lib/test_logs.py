import json
import logging

from switchboard.logs import JsonFormatter, TextFormatter, configure_logging


def _record(**extra: object) -> logging.LogRecord:
    record = logging.makeLogRecord({"msg": "claim updated", "levelname": "INFO", "name": "t"})
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_personal_data_fields_are_dropped_by_default() -> None:
    line = JsonFormatter("store", include_personal_data=False).format(
        _record(call_id="c1", pii_value="+14155550100")
    )
    entry = json.loads(line)
    assert entry["call_id"] == "c1"
    assert "pii_value" not in entry
    assert "+14155550100" not in line


def test_personal_data_fields_appear_only_when_enabled() -> None:
    entry = json.loads(
        JsonFormatter("store", include_personal_data=True).format(
            _record(pii_value="x@example.com")
        )
    )
    assert entry["pii_value"] == "x@example.com"


def test_text_logs_follow_the_same_personal_data_rule() -> None:
    line = TextFormatter("brain", include_personal_data=False).format(
        _record(turn="t1", pii_text="my secret")
    )
    assert "turn=t1" in line
    assert "my secret" not in line


def test_an_extra_field_cannot_relabel_the_service_or_the_message() -> None:
    entry = json.loads(
        JsonFormatter("gateway", include_personal_data=False).format(
            _record(service="speech", level="debug")
        )
    )
    assert entry["service"] == "gateway"
    assert entry["level"] == "info"


def test_speech_libraries_that_log_what_is_said_are_held_at_warning_even_in_debug() -> None:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        configure_logging("speech", "DEBUG")
        assert not logging.getLogger("piper.voice").isEnabledFor(logging.DEBUG)
        assert not logging.getLogger("faster_whisper").isEnabledFor(logging.INFO)
        assert logging.getLogger("switchboard_speech").isEnabledFor(logging.DEBUG)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
