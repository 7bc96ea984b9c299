"""The judge against a loopback OpenAI-compatible server, and without one."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from switchboard.config import LlmSettings
from switchboard_cli.evaluation.judge import CallJudge, judge_prompt, parse_verdict

from .eval_fixtures import good_record, spec


class FakeOpenAI:
    """Answers every chat completion with ``answer`` (or ``status``); keeps the requests."""

    def __init__(self) -> None:
        self.answer = ""
        self.status = 200
        self.requests: list[dict[str, Any]] = []


@pytest.fixture
def fake_openai() -> Iterator[tuple[FakeOpenAI, str]]:
    fake = FakeOpenAI()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            fake.requests.append({"path": self.path, "body": json.loads(body)})
            reply = {
                "id": "x",
                "object": "chat.completion",
                "created": 0,
                "model": "judge",
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {"role": "assistant", "content": fake.answer},
                    }
                ],
            }
            data = json.dumps(reply if fake.status == 200 else {"error": "boom"}).encode()
            self.send_response(fake.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake, f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def judge_for(url: str) -> CallJudge:
    return CallJudge(LlmSettings(endpoint=url, fast_model="judge", request_timeout_sec=5))


async def test_the_judge_verdicts_and_scores_become_results(
    fake_openai: tuple[FakeOpenAI, str],
) -> None:
    fake, url = fake_openai
    fake.answer = json.dumps(
        {"criteria": [{"id": 1, "pass": False, "reason": "mumbled"}], "scores": {"politeness": 0.9}}
    )
    judge = judge_for(url)
    results = await judge.judge(spec(), good_record())
    await judge.close()
    assert [(r.kind, r.status, r.detail) for r in results] == [
        ("judge", "fail", "mumbled"),
        ("score", "pass", "0.90"),
    ]
    assert results[1].score == 0.9
    sent = fake.requests[0]
    assert sent["path"] == "/v1/chat/completions"
    assert sent["body"]["model"] == "judge"
    assert "The bot was clear." in sent["body"]["messages"][1]["content"]


async def test_a_low_score_fails(fake_openai: tuple[FakeOpenAI, str]) -> None:
    fake, url = fake_openai
    fake.answer = json.dumps({"criteria": [{"id": 1, "pass": True}], "scores": {"politeness": 0.1}})
    judge = judge_for(url)
    results = await judge.judge(spec(), good_record())
    await judge.close()
    assert [r.status for r in results] == ["pass", "fail"]


async def test_a_judge_that_errors_leaves_every_criterion_not_judged(
    fake_openai: tuple[FakeOpenAI, str],
) -> None:
    fake, url = fake_openai
    fake.status = 500
    judge = judge_for(url)
    results = await judge.judge(spec(), good_record())
    await judge.close()
    assert {r.status for r in results} == {"not_judged"}


async def test_without_an_endpoint_criteria_are_not_judged_never_passed() -> None:
    judge = CallJudge(LlmSettings())
    assert not judge.configured
    results = await judge.judge(spec(), good_record())
    assert [(r.kind, r.status) for r in results] == [
        ("judge", "not_judged"),
        ("score", "not_judged"),
    ]


def test_a_malformed_or_partial_answer_is_not_judged() -> None:
    assert {r.status for r in parse_verdict("no json here", ["a"], ["politeness"], 0.5)} == {
        "not_judged"
    }
    partial = parse_verdict('{"criteria": [{"id": 2, "pass": true}], "scores": {"politeness": 7}}',
                            ["a", "b"], ["politeness"], 0.5)  # fmt: skip
    assert [r.status for r in partial] == ["not_judged", "pass", "not_judged"]


def test_the_prompt_carries_the_transcript_the_claim_and_the_knowledge() -> None:
    scenario = spec(judge={"criteria": ["c"], "knowledge": "Floods are covered."})
    prompt = judge_prompt(scenario, good_record())
    assert "caller: A pipe burst." in prompt
    assert "john.smith@example.com" in prompt
    assert "Floods are covered." in prompt
