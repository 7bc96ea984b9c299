"""The local model as a real server: llama.cpp + SmolLM2-135M over HTTP.

Time to first sentence (request sent → first complete sentence out of the splitter)
and generation speed (streamed chunks per second after the first; llama.cpp sends
one token per chunk), for short phone-style answers, no tools.

    .venv/bin/python bench/brain/local_llm.py [--runs 8]

Prints a table and writes bench/results/brain_local_llm.json.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import common

from switchboard.config import LlmSettings
from switchboard_brain.llm.base import ChatMessage, ChatRequest, TextDelta
from switchboard_brain.llm.openai_chat import OpenAIChatModel
from switchboard_brain.llm.sentences import SentenceSplitter
from tests.cluster.llama_server import MODEL_ALIAS, llama_server, why_unavailable

PROMPTS = [
    "My car was hit by a truck this morning. What should I do?",
    "Can you tell me when my claim will be processed?",
    "I lost my phone on the train yesterday.",
    "Hello, who is calling?",
]
SYSTEM = "You are Amelia from Contoso Insurance on a phone call. Answer in two short sentences."


async def run(base_url: str, runs: int) -> dict[str, float]:
    model = OpenAIChatModel(LlmSettings(endpoint=base_url, fast_model=MODEL_ALIAS), MODEL_ALIAS)
    first_sentence: list[float] = []
    speeds: list[float] = []
    try:
        for n in range(runs + 1):
            request = ChatRequest(
                [ChatMessage("system", SYSTEM), ChatMessage("user", PROMPTS[n % len(PROMPTS)])],
                max_tokens=64,
                seed=n,
            )
            splitter = SentenceSplitter()
            started = time.perf_counter()
            first_token = first = None
            chunks = 0
            async for event in model.stream(request):
                if isinstance(event, TextDelta):
                    chunks += 1
                    first_token = first_token or time.perf_counter()
                    if splitter.feed(event.text) and first is None:
                        first = time.perf_counter()
            ended = time.perf_counter()
            first = first or ended  # a one-sentence answer completes at the end
            if n == 0:
                continue  # warm-up: loads the model's caches
            first_sentence.append((first - started) * 1000)
            if first_token and chunks > 1 and ended > first_token:
                speeds.append((chunks - 1) / (ended - first_token))
    finally:
        await model.close()
    return {
        "runs": runs,
        "first_sentence_p50_ms": round(statistics.median(first_sentence), 1),
        "first_sentence_max_ms": round(max(first_sentence), 1),
        "tokens_per_sec_p50": round(statistics.median(speeds), 1) if speeds else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=8)
    args = parser.parse_args()
    reason = why_unavailable()
    if reason:
        raise SystemExit(f"skipped: {reason}")
    with tempfile.TemporaryDirectory() as tmp, llama_server(Path(tmp) / "server.log") as url:
        results = asyncio.run(run(url, args.runs))
    path = common.write("brain_local_llm", {"model": "SmolLM2-135M-Instruct Q4_1", **results})
    common.table([
        ("time to first sentence p50", f"{results['first_sentence_p50_ms']} ms"),
        ("time to first sentence max", f"{results['first_sentence_max_ms']} ms"),
        ("generation p50", f"{results['tokens_per_sec_p50']} tokens/s"),
        ("json", str(path)),
    ])  # fmt: skip


if __name__ == "__main__":
    main()
