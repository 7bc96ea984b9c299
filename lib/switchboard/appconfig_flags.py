"""Feature flags from Azure App Configuration: an optional live source beside the file.

The reference system keeps its flags in App Configuration as plain key-values (not
Feature Management flags): key ``<key_prefix><flag name>``, value the flag as text. Values
are parsed like the config file's scalars, so a stored ``false`` or ``0`` is that value
(the reference treated them as missing). Keys that are not flags are ignored: a store is
often shared.

Needs ``azure-appconfiguration`` (requirements-azure.txt), imported lazily. Authenticates
with the connection string in the variable named by ``connection_string_env`` (HMAC) when
it is set, else with a managed identity through ``azure-identity`` (Entra ID; the
identity needs the App Configuration Data Reader role).
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Mapping
from typing import Any

from switchboard.config import AppConfigurationSettings, ConfigError, Features, parse_yaml

log = logging.getLogger(__name__)

EXTRA_HINT = (
    "feature flags from Azure App Configuration need the optional extra: "
    "pip install -r requirements-azure.txt (azure-appconfiguration{})"
)
# The REST API's filter for key-values that have no label.
NO_LABEL = "\0"


def _import(module: str, package: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(EXTRA_HINT.format(package)) from exc


def is_configured(
    settings: AppConfigurationSettings, environ: Mapping[str, str] | None = None
) -> bool:
    """Whether App Configuration is a flag source at all (an endpoint or a connection string)."""
    env = os.environ if environ is None else environ
    return bool(settings.endpoint or env.get(settings.connection_string_env))


def _client(settings: AppConfigurationSettings, environ: Mapping[str, str]) -> Any:
    sdk = _import("azure.appconfiguration", "")
    options: dict[str, Any] = {
        "connection_timeout": settings.request_timeout_sec,
        "read_timeout": settings.request_timeout_sec,
        # The next reload is the retry: a slow store must not hold the flags thread.
        "retry_total": 1,
    }
    connection_string = environ.get(settings.connection_string_env, "")
    if connection_string:
        return sdk.AzureAppConfigurationClient.from_connection_string(connection_string, **options)
    if not settings.endpoint:
        raise ConfigError(
            "app_configuration needs an endpoint or a connection string in "
            f"{settings.connection_string_env}"
        )
    identity = _import("azure.identity", ", azure-identity")
    credential = identity.DefaultAzureCredential()
    return sdk.AzureAppConfigurationClient(settings.endpoint, credential, **options)


class AppConfigurationFlags:
    """Reads the flags stored in one App Configuration store (one label)."""

    def __init__(
        self,
        settings: AppConfigurationSettings,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self._client = _client(settings, os.environ if environ is None else environ)

    def read(self) -> dict[str, Any]:
        """The stored flags by name; raises the SDK's error when the store cannot be read.

        Blocking (the SDK's synchronous client): call it from a worker thread.
        """
        prefix = self.settings.key_prefix
        stored = self._client.list_configuration_settings(
            key_filter=f"{prefix}*", label_filter=self.settings.label or NO_LABEL
        )
        flags: dict[str, Any] = {}
        ignored = 0
        for setting in stored:
            name = str(setting.key)[len(prefix) :]
            if name not in Features.model_fields or setting.value is None:
                ignored += 1
                continue
            flags[name] = parse_yaml(str(setting.value))
        if ignored:
            log.debug("app configuration keys that are not flags ignored", extra={"count": ignored})
        return flags

    def close(self) -> None:
        self._client.close()
