"""The llm policy against a real OpenAI-compatible server (llama.cpp + SmolLM2-135M),
over HTTP: streaming, a tool call, and a whole simulated call through the five
services. The model is weak: these assert protocol facts, never wording."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx

from switchboard import domain
from switchboard.config import LlmSettings
from switchboard.store_client import StoreClient
from switchboard_brain.llm.base import (
    ChatMessage,
    ChatRequest,
    Finished,
    TextDelta,
    ToolCallsReady,
    ToolSpec,
)
from switchboard_brain.llm.openai_chat import OpenAIChatModel
from switchboard_cli.launcher import Cluster
from switchboard_cli.scenario import Scenario, SimulatedCallee
from tests.cluster.harness import unique_number
from tests.cluster.llama_server import MODEL_ALIAS

CLAIM = [{"name": "incident_description", "type": "text", "description": "what happened"}]
SAVE = ToolSpec(
    "updated_claim",
    "Save what happened, as the customer said it.",
    {
        "type": "object",
        "properties": {"description": {"type": "string"}},
        "required": ["description"],
    },
)


async def stored_call(cluster: Cluster, call_id: str) -> domain.Call:
    store = StoreClient(cluster.ports.grpc_address("store"))
    try:
        return await store.get_call(call_id)
    finally:
        await store.close()


def model(endpoint: str, **settings: Any) -> OpenAIChatModel:
    return OpenAIChatModel(
        LlmSettings(endpoint=endpoint, fast_model=MODEL_ALIAS, **settings), MODEL_ALIAS
    )


async def events(endpoint: str, request: ChatRequest, **settings: Any) -> list[Any]:
    chat = model(endpoint, **settings)
    try:
        return [e async for e in chat.stream(request)]
    finally:
        await chat.close()


def test_answers_stream_over_http_in_several_deltas(llama_endpoint: str) -> None:
    request = ChatRequest(
        [ChatMessage("user", "Say hello to the customer in one short sentence.")], max_tokens=24
    )
    got = asyncio.run(events(llama_endpoint, request))
    deltas = [e for e in got if isinstance(e, TextDelta)]
    assert len(deltas) > 1
    assert "".join(d.text for d in deltas).strip()
    assert isinstance(got[-1], Finished)


def test_a_tool_call_comes_back_with_grammar_valid_json_arguments(llama_endpoint: str) -> None:
    request = ChatRequest(
        [
            ChatMessage("system", "You save insurance claims. Always save what the user says."),
            ChatMessage("user", "A truck hit my parked car yesterday."),
        ],
        tools=[SAVE],
        max_tokens=64,
    )
    got = asyncio.run(events(llama_endpoint, request, stream_tools=False))
    calls = [c for e in got if isinstance(e, ToolCallsReady) for c in e.calls]
    assert calls and calls[0].name == "updated_claim"
    assert isinstance(json.loads(calls[0].arguments), dict)


def test_a_whole_call_stores_a_claim_value_from_a_tool_call_and_a_model_report(
    llm_cluster: Cluster, llm_api: httpx.Client
) -> None:
    scenario = Scenario.model_validate(
        {
            "phone_number": unique_number(),
            "request": {
                "claim": CLAIM,
                "task": "Ask what happened and save it with updated_claim.",
            },
            "customer": [
                "A truck hit my parked car in front of my house.",
                "No, that's all, goodbye.",
            ],
        }
    )
    callee = SimulatedCallee(
        scenario,
        llm_cluster.gateway_url,
        llm_cluster.api_key,
        llm_cluster.ports.grpc_address("dialer"),
    )
    result = asyncio.run(callee.run(limit_sec=600))
    call = llm_api.get(f"/call/{result.call['call_id']}").json()
    deadline = time.monotonic() + 90  # the post-call report follows the hang-up
    while not call.get("synthesis") and time.monotonic() < deadline:
        time.sleep(1)
        call = llm_api.get(f"/call/{result.call['call_id']}").json()
    # The REST view has no tool calls: read them from the store, as the brain wrote them.
    stored = asyncio.run(stored_call(llm_cluster, call["call_id"]))
    saves = [t for m in stored.messages for t in m.tool_calls if t.name == "updated_claim"]
    assert saves, "the model made no updated_claim call"
    results = [json.loads(t.result) for t in saves if t.result.startswith("{")]
    saved = {k: v for r in results for k, v in r["saved"].items()}
    assert saved and saved.items() <= call["claim"].items()
    assert call["synthesis"]["short"]
    assert call["next_action"]["action"]
