"""The chat-model seam: requests, streamed events and errors, free of any vendor SDK."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal

from switchboard.errors import SwitchboardError

Role = Literal["system", "user", "assistant", "tool"]


@dataclass(frozen=True)
class ModelToolCall:
    """A tool call as the model wrote it: ``arguments`` is raw text, maybe not even JSON."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class ChatMessage:
    role: Role
    content: str | None = None
    tool_calls: tuple[ModelToolCall, ...] = ()
    tool_call_id: str = ""

    def to_openai(self) -> dict[str, Any]:
        # "" rather than null beside tool calls: OpenAI takes both, llama.cpp's server only "".
        message: dict[str, Any] = {"role": self.role, "content": self.content or ""}
        if self.tool_calls:
            message["tool_calls"] = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments},
                }
                for call in self.tool_calls
            ]
        if self.role == "tool":
            message["tool_call_id"] = self.tool_call_id
        return message


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    parameters: dict[str, Any]

    def to_openai(self) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
        }


@dataclass(frozen=True)
class JsonSchema:
    """Asks for one JSON object matching ``schema`` (post-call answers)."""

    name: str
    schema: dict[str, Any]


@dataclass(frozen=True)
class ChatRequest:
    messages: list[ChatMessage]
    tools: list[ToolSpec] | None = None  # None, never [], when no tool is offered
    tool_choice: Literal["auto", "required"] = "auto"
    max_tokens: int = 160
    temperature: float = 0.0
    seed: int | None = None
    json_schema: JsonSchema | None = None
    # For a wrapper over several models (llm/fallback.py); a single model ignores both.
    # How long a model may take to begin its answer before the next model is asked:
    start_timeout_sec: float | None = None
    # Whether an answer with neither text nor tool calls counts as a failure:
    require_answer: bool = False

    def size_hint(self) -> int:
        """Characters sent, for logs (never the text itself)."""
        return sum(len(m.content or "") for m in self.messages)


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class ToolCallsReady:
    """All tool calls of the completion, complete (sent once, after the last delta)."""

    calls: tuple[ModelToolCall, ...]


@dataclass(frozen=True)
class Finished:
    """``reason`` as the endpoint said it: stop, tool_calls, length, content_filter."""

    reason: str
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass(frozen=True)
class ModelSwitched:
    """A wrapper gave up on a model before it said anything and asks ``model`` next.

    ``rest`` is the chat model that carries on from here (the remaining models), so the
    later requests of the same turn do not wait for the failed one again.
    """

    model: str
    rest: ChatModel


ChatEvent = TextDelta | ToolCallsReady | Finished | ModelSwitched


@dataclass
class ChatResult:
    text: str = ""
    tool_calls: list[ModelToolCall] = field(default_factory=list)
    finish_reason: str = ""


class ModelError(SwitchboardError):
    """The endpoint failed (network, status, malformed stream); another model may work."""

    retryable = True


class ContentFiltered(ModelError):
    """The endpoint's safety filter refused the prompt or the answer."""


class ChatModel(ABC):
    """One model behind one endpoint. ``stream`` yields text as it is generated."""

    model: str

    @abstractmethod
    def stream(self, request: ChatRequest) -> AsyncIterator[ChatEvent]:
        """The completion's events; raises :class:`ModelError` on failure."""

    async def complete(self, request: ChatRequest) -> ChatResult:
        """The whole completion at once."""
        result = ChatResult()
        parts: list[str] = []
        async for event in self.stream(request):
            match event:
                case TextDelta(text=text):
                    parts.append(text)
                case ToolCallsReady(calls=calls):
                    result.tool_calls = list(calls)
                case Finished(reason=reason):
                    result.finish_reason = reason
        result.text = "".join(parts)
        if result.finish_reason == "content_filter":
            raise ContentFiltered("the endpoint's content filter stopped the answer")
        return result

    async def close(self) -> None:  # noqa: B027 - optional hook, most models hold nothing
        """Releases connections."""


def arguments_of(call: ModelToolCall) -> dict[str, Any]:
    """The call's arguments as an object; ``ValueError`` saying why when they are not."""
    try:
        value = json.loads(call.arguments or "{}")
    except json.JSONDecodeError as exc:
        raise ValueError(f"the arguments are not valid JSON ({exc.msg} at {exc.pos})") from exc
    if not isinstance(value, dict):
        raise ValueError("the arguments must be a JSON object")
    return value
