"""Any OpenAI-compatible chat-completions endpoint, through the ``openai`` package.

OpenAI, vLLM, Ollama and the llama.cpp server take a base URL; Azure OpenAI takes
its endpoint and ``api_version``, with an API key or an Entra ID token
(``azure_entra_id: true``, needs ``azure-identity`` from requirements-azure.txt).
The key is read from the environment variable named by ``api_key_env``.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from typing import Any

from opentelemetry.trace import Span

from switchboard import telemetry
from switchboard.config import ConfigError, LlmSettings
from switchboard.telemetry_metrics import LLM_TOKENS, provider_ttfb
from switchboard_brain.llm.base import (
    ChatEvent,
    ChatModel,
    ChatRequest,
    ContentFiltered,
    Finished,
    ModelError,
    ModelToolCall,
    TextDelta,
    ToolCallsReady,
)

log = logging.getLogger(__name__)

_EXTRA = "requirements-llm.txt"
# The provider name in spans and metrics (an OpenAI-compatible endpoint, Azure or not).
PROVIDER = "openai"


def _openai() -> Any:
    try:
        import openai
    except ModuleNotFoundError as exc:
        raise ConfigError(f"brain.policy llm needs the openai package; install {_EXTRA}") from exc
    return openai


def _entra_token_provider() -> Any:
    try:
        from azure.identity import (  # type: ignore[import-not-found,import-untyped,unused-ignore]
            DefaultAzureCredential,
            get_bearer_token_provider,
        )
    except ModuleNotFoundError as exc:
        raise ConfigError(
            "brain.llm.azure_entra_id needs azure-identity; install requirements-azure.txt"
        ) from exc
    return get_bearer_token_provider(
        DefaultAzureCredential(), "https://cognitiveservices.azure.com/.default"
    )


def build_client(settings: LlmSettings) -> Any:
    """An ``AsyncOpenAI`` or ``AsyncAzureOpenAI`` client; retries are ours, not the SDK's."""
    openai = _openai()
    key = os.environ.get(settings.api_key_env, "")
    common: dict[str, Any] = {"timeout": settings.request_timeout_sec, "max_retries": 0}
    if settings.api_version:
        if settings.azure_entra_id:
            return openai.AsyncAzureOpenAI(
                azure_endpoint=settings.endpoint,
                api_version=settings.api_version,
                azure_ad_token_provider=_entra_token_provider(),
                **common,
            )
        return openai.AsyncAzureOpenAI(
            azure_endpoint=settings.endpoint,
            api_version=settings.api_version,
            api_key=key,
            **common,
        )
    # Local servers (llama.cpp, Ollama, vLLM) accept any key; the SDK insists on one.
    return openai.AsyncOpenAI(base_url=settings.endpoint, api_key=key or "unused", **common)


def request_kwargs(model: str, request: ChatRequest, json_format: str) -> dict[str, Any]:
    """The ``chat.completions.create`` arguments of a request."""
    kwargs: dict[str, Any] = {
        "model": model,
        "messages": [m.to_openai() for m in request.messages],
        "max_tokens": request.max_tokens,
        "temperature": request.temperature,
    }
    if request.seed is not None:
        kwargs["seed"] = request.seed
    if request.tools:
        kwargs["tools"] = [t.to_openai() for t in request.tools]
        kwargs["tool_choice"] = request.tool_choice
    if request.json_schema is not None:
        schema = request.json_schema
        if json_format == "json_object":
            kwargs["response_format"] = {"type": "json_object", "schema": schema.schema}
        else:
            kwargs["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": schema.name, "schema": schema.schema},
            }
    return kwargs


class _ToolCallBuffer:
    """Tool-call fragments of a stream, by index, joined into whole calls."""

    def __init__(self) -> None:
        self._calls: dict[int, dict[str, str]] = {}

    def add(self, fragments: Any) -> None:
        for fragment in fragments or ():
            entry = self._calls.setdefault(
                fragment.index or 0, {"id": "", "name": "", "arguments": ""}
            )
            if fragment.id:
                entry["id"] = fragment.id
            function = fragment.function
            if function is not None:
                entry["name"] += function.name or ""
                entry["arguments"] += function.arguments or ""

    def calls(self) -> tuple[ModelToolCall, ...]:
        # Some endpoints send an empty id (call-center-ai #391): give each call one.
        return tuple(
            ModelToolCall(
                id=c["id"] or f"call_{uuid.uuid4().hex[:12]}",
                name=c["name"],
                arguments=c["arguments"],
            )
            for _, c in sorted(self._calls.items())
        )


class OpenAIChatModel(ChatModel):
    """Streams chat completions from one model of an OpenAI-compatible endpoint."""

    def __init__(self, settings: LlmSettings, model: str, client: Any = None) -> None:
        self.model = model
        self._settings = settings
        self._client = client if client is not None else build_client(settings)

    async def stream(self, request: ChatRequest) -> AsyncIterator[ChatEvent]:
        # Not a current span: it would have to stay attached across the caller's awaits.
        span = telemetry.start_span(
            "llm.request",
            {"provider.kind": "llm", "provider.name": PROVIDER, "llm.model": self.model},
        )
        started: float | None = time.perf_counter()
        outcome = "cancelled"
        try:
            # aclosing: a caller that stops reading closes the request now, not at GC.
            async with aclosing(self._stream(request)) as events:
                async for event in events:
                    if started is not None:
                        provider_ttfb("llm", PROVIDER, time.perf_counter() - started)
                        started = None
                    if isinstance(event, Finished):
                        self._count_tokens(span, event)
                    yield event
            outcome = "ok"
        except ModelError:
            outcome = "error"
            raise
        finally:
            telemetry.set_attributes(span, {"llm.outcome": outcome})
            span.end()

    def _count_tokens(self, span: Span, finished: Finished) -> None:
        attributes = {"provider.name": PROVIDER, "llm.model": self.model}
        LLM_TOKENS.add(finished.prompt_tokens, {**attributes, "llm.token.type": "input"})
        LLM_TOKENS.add(finished.completion_tokens, {**attributes, "llm.token.type": "output"})
        telemetry.set_attributes(
            span,
            {
                "llm.tokens.input": finished.prompt_tokens,
                "llm.tokens.output": finished.completion_tokens,
            },
        )

    async def _stream(self, request: ChatRequest) -> AsyncGenerator[ChatEvent, None]:
        openai = _openai()
        kwargs = request_kwargs(self.model, request, self._settings.json_format)
        tools = _ToolCallBuffer()
        finish = ""
        usage = (0, 0)
        try:
            if request.tools and not self._settings.stream_tools:
                async for event in self._whole(kwargs):
                    yield event
                return
            stream = await self._client.chat.completions.create(stream=True, **kwargs)
            try:
                async for chunk in stream:
                    if getattr(chunk, "usage", None):
                        usage = (chunk.usage.prompt_tokens or 0, chunk.usage.completion_tokens or 0)
                    if not chunk.choices:
                        continue  # Azure's prompt-filter results, usage-only chunks
                    choice = chunk.choices[0]
                    delta = choice.delta
                    if delta is not None:
                        if delta.content:
                            yield TextDelta(delta.content)
                        if delta.tool_calls:
                            tools.add(delta.tool_calls)
                    if choice.finish_reason:
                        finish = choice.finish_reason
            finally:
                # A cancelled turn stops reading here: the HTTP request is closed at once,
                # so the endpoint stops generating for nobody.
                await stream.close()
        except openai.BadRequestError as exc:
            if _is_content_filter(exc):
                raise ContentFiltered("the endpoint's content filter refused the prompt") from exc
            raise ModelError(f"{self.model}: request rejected ({exc.status_code})") from exc
        except openai.APIStatusError as exc:
            raise ModelError(f"{self.model}: endpoint answered {exc.status_code}") from exc
        except openai.APIError as exc:
            raise ModelError(f"{self.model}: {type(exc).__name__}") from exc
        calls = tools.calls()
        if calls:
            yield ToolCallsReady(calls)
        yield Finished(finish or "stop", *usage)

    async def _whole(self, kwargs: dict[str, Any]) -> AsyncIterator[ChatEvent]:
        """One non-streamed completion as events (for endpoints that cannot stream tools)."""
        reply = await self._client.chat.completions.create(**kwargs)
        if not reply.choices:
            yield Finished("stop")
            return
        choice = reply.choices[0]
        message = choice.message
        if message.content:
            yield TextDelta(message.content)
        calls = tuple(
            ModelToolCall(
                id=c.id or f"call_{uuid.uuid4().hex[:12]}",
                name=c.function.name,
                arguments=c.function.arguments or "",
            )
            for c in message.tool_calls or ()
        )
        if calls:
            yield ToolCallsReady(calls)
        usage = reply.usage
        yield Finished(
            choice.finish_reason or "stop",
            usage.prompt_tokens if usage else 0,
            usage.completion_tokens if usage else 0,
        )

    async def close(self) -> None:
        await self._client.close()


def _is_content_filter(exc: Any) -> bool:
    body = exc.body if isinstance(exc.body, dict) else {}
    error = body.get("error", body) if isinstance(body, dict) else {}
    code = error.get("code") if isinstance(error, dict) else None
    return code == "content_filter" or "content_filter" in str(exc.message)
