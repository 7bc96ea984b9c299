"""HTML rendering: Jinja templates shipped in the package, autoescaped, no external assets."""

from __future__ import annotations

import functools
import zoneinfo
from datetime import datetime
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from switchboard_gateway.report_views import pretty_json


def local_time(value: datetime | None, timezone: str = "", seconds: bool = False) -> str:
    """``2026-03-03 10:00 CET`` in the call's timezone (UTC when unknown), with seconds
    when asked; ``—`` for none."""
    if value is None:
        return "—"
    try:
        zone = zoneinfo.ZoneInfo(timezone) if timezone else zoneinfo.ZoneInfo("UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    return value.astimezone(zone).strftime(
        "%Y-%m-%d %H:%M:%S %Z" if seconds else "%Y-%m-%d %H:%M %Z"
    )


def humanise(value: str) -> str:
    """``incident_datetime`` → ``Incident datetime``."""
    text = value.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


@functools.cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("switchboard_gateway", "templates"),
        autoescape=select_autoescape(["html", "jinja"], default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["local_time"] = local_time
    env.filters["humanise"] = humanise
    env.filters["pretty_json"] = pretty_json
    return env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)
