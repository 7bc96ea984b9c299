"""Lazy access to the optional Azure Speech SDK and its credentials."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from switchboard.config import ConfigError

EXTRA_HINT = (
    "the azure speech provider needs the optional extra: "
    "pip install -r requirements-azure.txt (azure-cognitiveservices-speech)"
)
KEY_ENV = "AZURE_SPEECH_KEY"
REGION_ENV = "AZURE_SPEECH_REGION"


def import_sdk() -> Any:
    """``azure.cognitiveservices.speech``, or an ImportError that names the extra."""
    try:
        # Ignores cover both cases: the SDK absent (here) or present without type hints.
        import azure.cognitiveservices.speech as speechsdk  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError as exc:
        raise ImportError(EXTRA_HINT) from exc
    return speechsdk


@dataclass(frozen=True)
class AzureCredentials:
    """Secrets come from the environment only."""

    key: str
    region: str

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AzureCredentials:
        env = os.environ if environ is None else environ
        key, region = env.get(KEY_ENV, ""), env.get(REGION_ENV, "")
        missing = [name for name, value in ((KEY_ENV, key), (REGION_ENV, region)) if not value]
        if missing:
            raise ConfigError(f"speech provider azure needs {' and '.join(missing)} set")
        return cls(key=key, region=region)

    def speech_config(self, sdk: Any) -> Any:
        return sdk.SpeechConfig(subscription=self.key, region=self.region)
