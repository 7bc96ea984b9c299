"""Structured logging with personal data kept out of messages.

Log messages are constant strings; details go in ``extra``. Any ``extra`` key
that starts with ``pii_`` (a phone number, a transcript, a claim value, a
prompt) is personal data: it is dropped unless ``logging.include_personal_data``
is true. Example::

    log.info("claim updated", extra={"call_id": cid, "field": name, "pii_value": value})
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

PII_PREFIX = "pii_"
# Third-party loggers whose messages carry spoken text or transcripts.
CONTENT_LOGGERS = ("piper", "faster_whisper", "ctranslate2", "onnxruntime")

# Attributes every LogRecord has; everything else came from ``extra``.
# uvicorn adds an ANSI-coloured copy of each message as `color_message`.
_RECORD_KEYS = frozenset(vars(logging.makeLogRecord({}))) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}


def record_fields(record: logging.LogRecord, include_personal_data: bool) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for key, value in vars(record).items():
        if key in _RECORD_KEYS:
            continue
        if key.startswith(PII_PREFIX) and not include_personal_data:
            continue
        fields[key] = value
    return fields


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, service, message, fields."""

    def __init__(self, service: str, include_personal_data: bool) -> None:
        super().__init__()
        self._service = service
        self._include_pii = include_personal_data

    def format(self, record: logging.LogRecord) -> str:
        # Fields first, so an ``extra`` key can never overwrite the built-in ones.
        entry: dict[str, Any] = {
            **record_fields(record, self._include_pii),
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "service": self._service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    """Human-readable lines for a terminal, with the same personal-data rule."""

    def __init__(self, service: str, include_personal_data: bool) -> None:
        super().__init__("%(asctime)s %(levelname)-7s " + service + " %(name)s: %(message)s")
        self._include_pii = include_personal_data

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = record_fields(record, self._include_pii)
        if fields:
            line += " " + " ".join(f"{k}={v}" for k, v in fields.items())
        return line


def configure_logging(
    service: str, level: str = "INFO", fmt: str = "json", include_personal_data: bool = False
) -> None:
    """Sends every log record of the process to stderr in the chosen format."""
    handler = logging.StreamHandler(sys.stderr)
    formatter_cls = JsonFormatter if fmt == "json" else TextFormatter
    handler.setFormatter(formatter_cls(service, include_personal_data))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Library chatter stays at warning unless asked for. Speech libraries log what they
    # say or hear in their messages (piper: "text=…" at debug), never fit for our logs.
    for noisy in ("grpc", "asyncio", "httpx", "uvicorn.access", *CONTENT_LOGGERS):
        logging.getLogger(noisy).setLevel(logging.WARNING)
