"""The judge against a real OpenAI-compatible server: llama.cpp's, with SmolLM2-135M.

The model is tiny: this asserts the protocol (request accepted, one result per
criterion and score, nothing counted as passed without a verdict), never its opinions.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime

import pytest

from switchboard.config import LlmSettings
from switchboard_cli.evaluation.judge import CallJudge
from switchboard_cli.evaluation.record import CallRecord, Result
from switchboard_cli.evaluation.spec import EvalScenario
from tests.cluster.llama_server import MODEL_ALIAS, llama_server, why_unavailable


@pytest.fixture(scope="module")
def llama(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    reason = why_unavailable()
    if reason:
        pytest.skip(reason)
    with llama_server(tmp_path_factory.mktemp("judge-llama") / "server.log") as base_url:
        yield base_url


@pytest.mark.cluster
def test_the_judge_gets_an_answer_for_every_criterion_and_score_from_llama_cpp(
    llama: str,
) -> None:
    scenario = EvalScenario.model_validate(
        {
            "name": "judged",
            "customer": ["A pipe burst.", "bye"],
            "judge": {
                "criteria": ["The bot said goodbye."],
                "scores": ["politeness"],
            },
        }
    )
    record = CallRecord(
        scenario="judged",
        call_date=datetime.fromisoformat("2026-11-24T15:00:00+00:00"),
        call={"claim": {"incident_description": "A pipe burst."}},
        heard=[
            ("bot", "Hello, what happened?"),
            ("caller", "A pipe burst."),
            ("bot", "Thank you. Goodbye!"),
        ],
    )
    settings = LlmSettings(endpoint=llama, fast_model=MODEL_ALIAS, request_timeout_sec=120)

    async def judge() -> list[Result]:
        judge = CallJudge(settings)
        try:
            return await judge.judge(scenario, record)
        finally:
            await judge.close()

    results = asyncio.run(judge())
    kinds = [(r.kind, r.name) for r in results]
    assert kinds == [("judge", "The bot said goodbye."), ("score", "politeness")]
    for result in results:
        assert result.status in ("pass", "fail", "not_judged")
        # The request itself worked: a verdict, or at most a missing one, never a failure.
        assert "judge failed" not in result.detail, result.detail
