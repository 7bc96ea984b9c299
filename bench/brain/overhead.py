"""Brain overhead, model time excluded: a caller turn in → the first sentence out,
through the real session and llm policy (prompt rendering, history, token budget,
sentence splitting, store writes), with a scripted model that answers instantly.
The form policy is measured the same way for comparison. Target: p50 ≤ 2 ms.

    .venv/bin/python bench/brain/overhead.py [--turns 300]

Prints a table and writes bench/results/brain_overhead.json.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

import common

from switchboard.config import Features, LlmSettings
from switchboard.converse import AgentSentence, UserTurn
from switchboard.features import FeatureFlags
from switchboard_brain.policy.base import ConversationPolicy
from switchboard_brain.policy.form import FormPolicy
from switchboard_brain.policy.llm import LlmPolicy
from switchboard_brain.session import ConversationSession
from switchboard_testing.brain_fakes import REFERENCE_NOW, InMemoryStore, Reply, ScriptedChatModel
from switchboard_testing.clock import VirtualClock


async def measure(policy: ConversationPolicy, turns: int) -> list[float]:
    store = InMemoryStore()
    store.new_call()
    session = await ConversationSession.open(
        store, "call-1", policy, VirtualClock(REFERENCE_NOW), FeatureFlags(Features())
    )
    samples = []
    for n in range(turns):
        started = time.perf_counter()
        first = None
        async for event in session.handle(UserTurn(f"t{n}", "A truck hit my parked car.")):
            if first is None and isinstance(event, AgentSentence):
                first = time.perf_counter()
        samples.append(((first or time.perf_counter()) - started) * 1000)
    return samples


def llm_policy(turns: int) -> LlmPolicy:
    replies = [Reply("Thank you, I noted that. What else happened?") for _ in range(turns + 5)]
    model = ScriptedChatModel(replies)
    return LlmPolicy(LlmSettings(endpoint="http://bench", fast_model="instant"), model, model)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=300)
    args = parser.parse_args()
    results = {}
    rows = []
    for name, policy in (("llm", llm_policy(args.turns)), ("form", FormPolicy())):
        samples = asyncio.run(measure(policy, args.turns))[10:]  # warm-up dropped
        results[name] = {
            "turns": len(samples),
            "p50_ms": round(statistics.median(samples), 3),
            "p95_ms": round(common.percentile(samples, 95), 3),
            "max_ms": round(max(samples), 3),
        }
        r = results[name]
        rows.append((f"{name} policy", f"p50 {r['p50_ms']} ms  p95 {r['p95_ms']} ms"))
    path = common.write("brain_overhead", {"target_p50_ms": 2.0, "policies": results})
    common.table([("turn in → first sentence out (model instant)", ""), *rows, ("json", str(path))])


if __name__ == "__main__":
    main()
