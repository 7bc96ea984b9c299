"""Pydantic errors → sentences that name the field and say what is expected."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

# Where FastAPI says the value came from; the caller knows, so it is left out.
_SOURCES = frozenset({"body", "query", "path", "header", "cookie"})
# Messages that read on from the field name ("phone_number must be …").
_CONTINUATIONS = ("must ", "is ", "has ", "needs ", "should ")


def field_path(loc: Sequence[int | str]) -> str:
    """``("body", "claim", 2, "type")`` → ``"claim[2].type"``; the root is ``"the body"``."""
    parts = list(loc[1:] if loc and loc[0] in _SOURCES else loc)
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "the body"


def _phrase(kind: str, ctx: Mapping[str, Any], raw: str) -> str:
    match kind:
        case "missing":
            return "is required"
        case "extra_forbidden":
            return "is not a known field (see /docs for the request schema)"
        case "string_type":
            return "must be a string"
        case "string_too_short":
            return "must not be empty"
        case "string_too_long":
            return f"must be at most {ctx.get('max_length')} characters"
        case "too_long":
            return (
                f"must have at most {ctx.get('max_length')} items "
                f"(it has {ctx.get('actual_length')})"
            )
        case "list_type":
            return "must be a list"
        case "float_type" | "float_parsing" | "finite_number":
            return "must be a number"
        case "model_type" | "model_attributes_type" | "dict_type":
            return "must be a JSON object"
        case "json_invalid":
            return f"is not valid JSON ({ctx.get('error', 'syntax error')})"
        case "value_error":
            return str(ctx.get("error", raw))
        case _:
            return raw


def describe(error: Mapping[str, Any]) -> str:
    """One pydantic error as a sentence: ``claim[2].type must be one of text, …``."""
    loc = error.get("loc", ())
    kind = str(error.get("type", ""))
    path = "the body" if kind == "json_invalid" else field_path(loc)
    phrase = _phrase(kind, error.get("ctx") or {}, str(error.get("msg", "is invalid")))
    if phrase.startswith(_CONTINUATIONS):
        return f"{path} {phrase}"
    return f"{path}: {phrase}"


def describe_all(errors: Sequence[Mapping[str, Any]]) -> list[str]:
    seen: dict[str, None] = {}
    for error in errors:
        seen.setdefault(describe(error), None)
    return list(seen)


def summary(details: Sequence[str]) -> str:
    """The envelope's ``message``: the problem, or how many there are and what they are."""
    if len(details) == 1:
        return details[0]
    return f"the request has {len(details)} problems: " + "; ".join(details)
