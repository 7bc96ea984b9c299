"""Whether an environment override names a real setting of lib/switchboard/config.py."""

from __future__ import annotations

from pydantic import BaseModel

from switchboard.config import ENV_PREFIX, Settings


def names_a_setting(variable: str) -> bool:
    """``SWITCHBOARD__BRAIN__LLM__ENDPOINT`` → is ``brain.llm.endpoint`` a setting?

    The config refuses unknown keys, so a service given a wrong one does not start.
    """
    model: type[BaseModel] = Settings
    parts = variable.removeprefix(ENV_PREFIX).lower().split("__")
    for depth, part in enumerate(parts):
        field = model.model_fields.get(part)
        if field is None:
            return False
        if depth < len(parts) - 1:
            annotation = field.annotation
            if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
                return False
            model = annotation
    return True
