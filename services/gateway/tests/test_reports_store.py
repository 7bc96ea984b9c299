"""The report pages over the real store (gRPC, SQLite) through ``GrpcCallBackend``: a live
call's page reloads and shows its tool calls and timeline; the list pages past 100 calls."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import httpx
import pytest

from switchboard import domain
from switchboard.config import ServiceAddresses, Settings
from switchboard.v1 import store_pb2_grpc
from switchboard_gateway.app import create_app
from switchboard_gateway.grpc_backend import GrpcCallBackend
from switchboard_store.servicer import StoreServicer
from switchboard_store.sqlite_repository import SqliteCallRepository

API_KEY = "test-key-0123456789"
REQUEST = domain.CallRequest(
    bot_company="Contoso",
    bot_name="Joe",
    phone_number="+14155550123",
    agent_phone_number="+14155550199",
    task="Collect the claim.",
    claim=(domain.ClaimField(name="email", type=domain.ClaimFieldType.EMAIL),),
)
OUT = domain.CallDirection.OUTBOUND


@dataclass
class Stack:
    repo: SqliteCallRepository
    http: httpx.AsyncClient


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    repo = await SqliteCallRepository.open(tmp_path / "store.db")
    server = grpc.aio.server()
    address = f"127.0.0.1:{server.add_insecure_port('127.0.0.1:0')}"
    store_pb2_grpc.add_StoreServicer_to_server(StoreServicer(repo), server)
    await server.start()
    backend = GrpcCallBackend(ServiceAddresses(dialer=address, store=address))
    app = create_app(Settings.model_validate({"gateway": {"api_keys": [API_KEY]}}), backend)
    http = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://gw",
        headers={"Authorization": f"Bearer {API_KEY}"},
    )
    try:
        yield Stack(repo, http)
    finally:
        await http.aclose()
        await backend.close()
        await server.stop(0)
        await repo.close()


async def test_a_live_calls_report_reloads_with_its_tool_calls_and_timeline(stack: Stack) -> None:
    call = await stack.repo.create_call(REQUEST, OUT)
    await stack.repo.set_call_state(call.call_id, domain.CallState.DIALING)
    await stack.repo.set_call_state(call.call_id, domain.CallState.IN_PROGRESS)
    tool = domain.ToolCall(
        tool_id="t1", name="update_claim", arguments_json='{"email": "jo@example.com"}'
    )
    said = domain.Message(persona=domain.Persona.ASSISTANT, content="Noted.", tool_calls=[tool])
    await stack.repo.append_messages(call.call_id, [said])
    await stack.repo.update_claim(call.call_id, [("email", "jo@example.com")])

    live = (await stack.http.get(f"/report/{call.call_id}")).text

    assert '<meta http-equiv="refresh" content="5">' in live
    assert "update_claim" in live and "&#34;email&#34;: &#34;jo@example.com&#34;" in live
    timeline = live.split("<h2>Timeline</h2>", 1)[1]
    assert [
        w for w in ("Created", "Dialing", "In progress", "email = jo@example.com") if w in timeline
    ] == ["Created", "Dialing", "In progress", "email = jo@example.com"]

    await stack.repo.set_call_state(call.call_id, domain.CallState.ENDED, "end_call")
    ended = (await stack.http.get(f"/report/{call.call_id}")).text

    assert 'http-equiv="refresh"' not in ended
    assert "Ended" in ended.split("<h2>Timeline</h2>", 1)[1]


async def test_the_list_pages_past_100_calls_from_the_store(stack: Stack) -> None:
    created = [(await stack.repo.create_call(REQUEST, OUT)).call_id for _ in range(105)]

    first = (await stack.http.get("/report")).text
    second = (await stack.http.get("/report", params={"page": 2})).text

    def linked(page: str) -> list[str]:
        return re.findall(r'href="/report/([0-9a-f-]{36})"', page)

    assert linked(first) == created[::-1][:100]
    assert linked(second) == created[::-1][100:]
    assert 'href="/report?page=2" rel="next"' in first
    assert 'href="/report" rel="prev"' in second
