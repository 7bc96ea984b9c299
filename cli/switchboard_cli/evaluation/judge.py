"""The judge: natural-language criteria and scores, asked of an OpenAI-compatible model.

Configured like the brain's ``llm`` policy (``brain.llm``: endpoint, API key from the
environment variable it names, Azure ``api_version``), with the model and endpoint
overridable for the judge alone. Without a configured endpoint every criterion and
score is reported as ``not_judged``: an unjudged criterion never counts as passed.
"""

from __future__ import annotations

import json
import logging
import os
import re
from typing import Any

from switchboard.config import LlmSettings
from switchboard_cli.evaluation.record import CallRecord, Result
from switchboard_cli.evaluation.spec import EvalScenario

log = logging.getLogger(__name__)

SCORE_MEANINGS = {
    "task_completion": "did the bot get the task done (every needed value collected, or the "
    "caller's request correctly handed on)",
    "faithfulness": "did the bot state only facts from the knowledge given and the call itself, "
    "inventing nothing",
    "politeness": "was the bot courteous and professional throughout",
}

SYSTEM = (
    "You evaluate phone calls between an automated agent (the bot) and a caller. "
    "Be strict: a criterion passes only when the transcript clearly shows it. "
    "Answer with one JSON object and nothing else."
)


def judge_prompt(spec: EvalScenario, record: CallRecord) -> str:
    """The user message: the call's purpose, transcript, outcome and what to judge."""
    request = {**spec.request}
    lines = [f"{speaker}: {text}" for speaker, text in record.heard]
    criteria = "\n".join(f"{i}. {c}" for i, c in enumerate(spec.judge.criteria, 1))
    scores = "\n".join(f"- {s}: {SCORE_MEANINGS[s]}" for s in spec.judge.scores)
    parts = [
        f"The bot's task: {request.get('task', 'help the caller file a claim')}",
        f"Knowledge the bot may use: {spec.judge.knowledge or '(none beyond the call itself)'}",
        "Transcript:\n" + "\n".join(lines),
        "Values the bot stored: " + json.dumps(record.call.get("claim") or {}, ensure_ascii=False),
    ]
    if criteria:
        parts.append("Criteria (each passes or fails):\n" + criteria)
    if scores:
        parts.append("Scores (each a number from 0 to 1):\n" + scores)
    parts.append(
        'Answer as {"criteria": [{"id": 1, "pass": true, "reason": "..."}], '
        '"scores": {"name": 0.0}}, with every criterion and score listed above.'
    )
    return "\n\n".join(parts)


def parse_verdict(
    text: str, criteria: list[str], scores: list[str], min_score: float
) -> list[Result]:
    """The judge's JSON answer as results; anything missing or malformed is not judged."""
    data = _json_object(text)
    verdicts = {}
    for item in data.get("criteria") or []:
        if isinstance(item, dict) and isinstance(item.get("id"), int):
            verdicts[item["id"]] = item
    results = []
    for i, criterion in enumerate(criteria, 1):
        verdict = verdicts.get(i)
        if verdict is None or not isinstance(verdict.get("pass"), bool):
            results.append(Result(kind="judge", name=criterion, status="not_judged",
                                  detail="the judge gave no verdict"))  # fmt: skip
            continue
        reason = str(verdict.get("reason", ""))
        results.append(Result.check("judge", criterion, verdict["pass"], reason))
    raw_scores = data.get("scores")
    given: dict[str, Any] = raw_scores if isinstance(raw_scores, dict) else {}
    for name in scores:
        value = given.get(name)
        if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value <= 1:
            results.append(Result(kind="score", name=name, status="not_judged",
                                  detail="the judge gave no score"))  # fmt: skip
            continue
        result = Result.check("score", name, value >= min_score, f"{value:.2f}")
        results.append(result.model_copy(update={"score": float(value)}))
    return results


def _json_object(text: str) -> dict[str, Any]:
    match = re.search(r"\{.*\}", text, re.S)
    if match is None:
        return {}
    try:
        data = json.loads(match.group(0))
    except json.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


def not_judged(spec: EvalScenario, why: str) -> list[Result]:
    return [Result(kind="judge", name=c, status="not_judged", detail=why)
            for c in spec.judge.criteria] + [
        Result(kind="score", name=s, status="not_judged", detail=why) for s in spec.judge.scores
    ]  # fmt: skip


class CallJudge:
    """Judges calls through one OpenAI-compatible endpoint (or reports them not judged)."""

    def __init__(self, settings: LlmSettings) -> None:
        self._settings = settings
        self._client: Any = build_client(settings) if settings.configured else None

    @property
    def configured(self) -> bool:
        return self._client is not None

    async def judge(self, spec: EvalScenario, record: CallRecord) -> list[Result]:
        if not spec.judge.criteria and not spec.judge.scores:
            return []
        if self._client is None:
            return not_judged(spec, "no judge configured")
        if record.error:
            return not_judged(spec, "the call did not run")
        try:
            reply = await self._client.chat.completions.create(
                model=self._settings.fast_model,
                messages=[
                    {"role": "system", "content": SYSTEM},
                    {"role": "user", "content": judge_prompt(spec, record)},
                ],
                temperature=0.0,
                max_tokens=max(256, self._settings.max_tokens),
                response_format={"type": "json_object"},
            )
            text = reply.choices[0].message.content or ""
        except Exception as exc:  # any SDK or transport error: this call stays unjudged
            log.warning("judge request failed", extra={"error": type(exc).__name__})
            return not_judged(spec, f"the judge failed: {type(exc).__name__}")
        return parse_verdict(
            text, spec.judge.criteria, list(spec.judge.scores), spec.judge.min_score
        )

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()


def build_client(settings: LlmSettings) -> Any:
    """An ``AsyncOpenAI`` (or ``AsyncAzureOpenAI``) client for the judge."""
    try:
        import openai
    except ModuleNotFoundError as exc:
        raise RuntimeError("the judge needs the openai package (requirements-llm.txt)") from exc
    key = os.environ.get(settings.api_key_env, "")
    common: dict[str, Any] = {"timeout": settings.request_timeout_sec, "max_retries": 1}
    if settings.api_version:
        return openai.AsyncAzureOpenAI(
            azure_endpoint=settings.endpoint, api_version=settings.api_version, api_key=key,
            **common,
        )  # fmt: skip
    return openai.AsyncOpenAI(base_url=settings.endpoint, api_key=key or "unused", **common)
