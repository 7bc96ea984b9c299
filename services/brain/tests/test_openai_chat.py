"""The OpenAI-compatible provider up to the SDK boundary: what it sends, how it reads
a stream, how it maps errors. The client is a small stand-in with the SDK's shape."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import httpx
import openai
import pytest

from switchboard.config import LlmSettings
from switchboard_brain.llm import openai_chat
from switchboard_brain.llm.base import (
    ChatMessage,
    ChatRequest,
    ContentFiltered,
    Finished,
    JsonSchema,
    ModelError,
    TextDelta,
    ToolCallsReady,
    ToolSpec,
)
from switchboard_brain.llm.openai_chat import OpenAIChatModel, build_client, request_kwargs


def chunk(
    content: str | None = None, tools: list[Any] | None = None, finish: str | None = None
) -> Any:
    delta = SimpleNamespace(content=content, tool_calls=tools)
    return SimpleNamespace(choices=[SimpleNamespace(delta=delta, finish_reason=finish)], usage=None)


def fragment(index: int, id: str = "", name: str = "", args: str = "") -> Any:
    return SimpleNamespace(index=index, id=id, function=SimpleNamespace(name=name, arguments=args))


class _Stream:
    def __init__(self, chunks: list[Any]) -> None:
        self._chunks = chunks
        self.closed = False

    async def close(self) -> None:
        self.closed = True

    def __aiter__(self) -> Any:
        async def gen() -> Any:
            for c in self._chunks:
                yield c

        return gen()


class FakeClient:
    def __init__(self, chunks: list[Any] | None = None, error: Exception | None = None) -> None:
        self.sent: list[dict[str, Any]] = []
        self._chunks = chunks or []
        self._error = error
        self.chat = SimpleNamespace(completions=SimpleNamespace(create=self._create))
        self.streams: list[_Stream] = []

    async def _create(self, **kwargs: Any) -> _Stream:
        self.sent.append(kwargs)
        if self._error:
            raise self._error
        self.streams.append(_Stream(self._chunks))
        return self.streams[-1]

    async def close(self) -> None:
        pass


async def events(model: OpenAIChatModel, request: ChatRequest) -> list[Any]:
    return [e async for e in model.stream(request)]


REQUEST = ChatRequest(
    messages=[ChatMessage("system", "rules"), ChatMessage("user", "hi")],
    tools=[ToolSpec("end_call", "Hang up", {"type": "object", "properties": {}})],
    max_tokens=50,
    seed=7,
)


async def test_text_and_tool_call_fragments_are_joined_in_order() -> None:
    client = FakeClient(
        [
            SimpleNamespace(choices=[], usage=None),  # Azure's prompt-filter chunk
            chunk("Hel"),
            chunk("lo."),
            chunk(tools=[fragment(0, "call_a", "updated_", '{"up')]),
            chunk(tools=[fragment(1, "", "end_call", "{}")]),
            chunk(tools=[fragment(0, "", "claim", 'dates": []}')], finish="tool_calls"),
        ]
    )
    model = OpenAIChatModel(LlmSettings(), "small", client=client)
    got = await events(model, REQUEST)
    assert [e.text for e in got if isinstance(e, TextDelta)] == ["Hel", "lo."]
    calls = next(e for e in got if isinstance(e, ToolCallsReady)).calls
    assert (calls[0].id, calls[0].name, calls[0].arguments) == (
        "call_a",
        "updated_claim",
        '{"updates": []}',
    )
    assert calls[1].name == "end_call" and calls[1].id.startswith("call_")  # empty id replaced
    assert got[-1] == Finished("tool_calls")
    sent = client.sent[0]
    assert sent["stream"] is True and sent["model"] == "small" and sent["seed"] == 7
    assert sent["tools"][0]["function"]["name"] == "end_call"
    assert sent["tool_choice"] == "auto"


async def test_a_turn_that_stops_reading_closes_the_model_request() -> None:
    client = FakeClient([chunk(content="Hello. "), chunk(content="How are you? ")])
    model = OpenAIChatModel(LlmSettings(), "small", client=client)
    events = model.stream(ChatRequest(messages=[ChatMessage("user", "hi")]))
    await anext(aiter(events))
    assert not client.streams[0].closed
    await events.aclose()  # type: ignore[attr-defined]
    assert client.streams[0].closed


def test_no_tools_means_no_tools_key_and_json_formats_follow_the_setting() -> None:
    request = ChatRequest(
        [ChatMessage("user", "x")], json_schema=JsonSchema("A", {"type": "object"})
    )
    openai_style = request_kwargs("m", request, "json_schema")
    assert "tools" not in openai_style and "tool_choice" not in openai_style
    assert openai_style["response_format"]["type"] == "json_schema"
    llama_style = request_kwargs("m", request, "json_object")
    assert llama_style["response_format"] == {"type": "json_object", "schema": {"type": "object"}}


def _status_error(cls: type[openai.APIStatusError], status: int, body: Any) -> Exception:
    response = httpx.Response(status, request=httpx.Request("POST", "http://x/v1/chat"))
    return cls("rejected", response=response, body=body)


async def test_a_content_filter_rejection_and_other_errors_become_model_errors() -> None:
    filtered = _status_error(
        openai.BadRequestError, 400, {"error": {"code": "content_filter", "message": "no"}}
    )
    with pytest.raises(ContentFiltered):
        await events(
            OpenAIChatModel(LlmSettings(), "m", client=FakeClient(error=filtered)), REQUEST
        )
    down = _status_error(openai.InternalServerError, 503, None)
    with pytest.raises(ModelError, match="503"):
        await events(OpenAIChatModel(LlmSettings(), "m", client=FakeClient(error=down)), REQUEST)
    lost = openai.APIConnectionError(request=httpx.Request("POST", "http://x"))
    with pytest.raises(ModelError, match="APIConnectionError"):
        await events(OpenAIChatModel(LlmSettings(), "m", client=FakeClient(error=lost)), REQUEST)


def test_the_client_is_azure_with_an_api_version_and_reads_the_key_from_the_env(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SWITCHBOARD_LLM_API_KEY", "sk-test")
    azure = build_client(
        LlmSettings(endpoint="https://x.openai.azure.com", api_version="2024-10-21")
    )
    assert isinstance(azure, openai.AsyncAzureOpenAI) and azure.api_key == "sk-test"
    plain = build_client(LlmSettings(endpoint="http://127.0.0.1:8000/v1"))
    assert isinstance(plain, openai.AsyncOpenAI) and str(plain.base_url).startswith("http://127")


class _Tokens:
    """Stands in for the ``llm.token.usage`` counter: what was added, with which attributes."""

    def __init__(self) -> None:
        self.added: list[tuple[int, dict[str, str]]] = []

    def add(self, amount: int, attributes: dict[str, str]) -> None:
        self.added.append((amount, attributes))


async def test_token_usage_is_counted_per_direction_without_the_prompt(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tokens = _Tokens()
    monkeypatch.setattr(openai_chat, "LLM_TOKENS", tokens)
    usage = SimpleNamespace(prompt_tokens=12, completion_tokens=3)
    client = FakeClient(
        [chunk("Hi."), SimpleNamespace(choices=[], usage=usage), chunk(finish="stop")]
    )
    model = OpenAIChatModel(LlmSettings(), "small", client=client)
    got = await events(model, ChatRequest(messages=[ChatMessage("user", "my secret")]))
    assert got[-1] == Finished("stop", 12, 3)
    assert [(n, a["llm.token.type"]) for n, a in tokens.added] == [(12, "input"), (3, "output")]
    assert all(set(a) == {"provider.name", "llm.model", "llm.token.type"} for _, a in tokens.added)
