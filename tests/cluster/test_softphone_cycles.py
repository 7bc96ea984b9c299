"""Softphone sockets through the real gateway and dialer: every register-and-close
cycle releases the number on the dialer, and a hostile message gets a reasoned close."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from switchboard_cli.launcher import Cluster
from tests.cluster.harness import unique_number

CYCLES = 200
REPLY_WAIT_SEC = 10.0


async def _open(cluster: Cluster) -> ClientConnection:
    url = cluster.gateway_url.replace("http://", "ws://") + "/softphone/ws"
    return await connect(url, additional_headers={"Authorization": f"Bearer {cluster.api_key}"})


async def _register(ws: ClientConnection, number: str) -> dict[str, Any]:
    await ws.send(json.dumps({"type": "register", "number": number}))
    try:
        reply: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), REPLY_WAIT_SEC))
    except ConnectionClosed:
        return {"type": "closed", "code": ws.close_code, "reason": ws.close_reason}
    return reply


async def _cycles(cluster: Cluster, number: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    replies = []
    for cycle in range(CYCLES):
        ws = await _open(cluster)
        if cycle % 2:
            await ws.send(json.dumps({"type": "register", "number": number}))
        else:
            replies.append(await _register(ws, number))
        await ws.close()  # odd cycles: before the reply
    ws = await _open(cluster)
    try:
        last = await _register(ws, number)
    finally:
        await ws.close()
    return replies, last


def test_register_and_close_cycles_all_release_the_number_on_the_dialer(cluster: Cluster) -> None:
    number = unique_number()

    replies, last = asyncio.run(_cycles(cluster, number))

    refused = [r for r in replies if r["type"] != "registered"]
    assert refused == [], f"{len(refused)} of {len(replies)} refused, first: {refused[0]}"
    assert last["type"] == "registered"


async def _deep(cluster: Cluster) -> tuple[int | None, str | None]:
    ws = await _open(cluster)
    try:
        assert (await _register(ws, unique_number()))["type"] == "registered"
        await ws.send("[" * 1000 + "]" * 1000)
        try:
            await asyncio.wait_for(ws.recv(), REPLY_WAIT_SEC)
        except ConnectionClosed:
            pass
        return ws.close_code, ws.close_reason
    finally:
        await ws.close()


def test_a_message_nested_a_thousand_deep_is_answered_with_a_close_and_a_reason(
    cluster: Cluster,
) -> None:
    code, reason = asyncio.run(_deep(cluster))
    assert code == 1007
    assert reason and "flat JSON" in reason
