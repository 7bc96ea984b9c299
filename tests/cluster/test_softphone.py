"""The browser softphone end to end: headless Chromium, its fake microphone, five services.

Chromium plays a wav as its microphone (``--use-file-for-fake-audio-capture``,
looped): silence while the bot greets, then the callee's answer, synthesised by
the Speech service (Piper). The test drives the page over the DevTools protocol
(a small client on ``websockets``, already a gateway dependency): it opens
``/softphone?key=…``, places the call with ``POST /call``, clicks Answer, waits
for the claim, clicks Hang up, and checks the stored call.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import shutil
import subprocess
import time
import wave
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from switchboard_cli.launcher import Cluster
from switchboard_testing.voices import spoken_pcm
from tests.cluster.harness import unique_number

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
RATE = 16000
ANSWER = "It happened yesterday at 9 am."
# FIXED_NOW is Tuesday 24 November 2026, 07:00 in California (a +1415 number's zone).
YESTERDAY_9AM = "2026-11-23T09:00:00-08:00"
# Longer than the greeting, so the answer follows it instead of interrupting it.
LEAD_SILENCE_SEC = 7.0
TAIL_SILENCE_SEC = 8.0
GREETING = "Hello, this is Joe from Contoso Insurance."
# A folder to keep the screenshots in (ringing, in call); they are always in tmp_path.
SCREENSHOT_ENV = "SWITCHBOARD_SOFTPHONE_SCREENSHOT"

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="chromium is not installed (apt-get install chromium)"
)


async def synthesise(speech_address: str, text: str) -> bytes:
    """``text`` as PCM16 at 16 kHz, spoken by the Speech service."""
    [pcm] = await spoken_pcm(speech_address, [text], RATE, call_id="softphone-test")
    return pcm


def write_microphone(path: Path, speech: bytes) -> None:
    silence = b"\x00\x00"
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(silence * int(RATE * LEAD_SILENCE_SEC))
        wav.writeframes(speech)
        wav.writeframes(silence * int(RATE * TAIL_SILENCE_SEC))


@contextlib.contextmanager
def chromium(profile: Path, microphone: Path) -> Iterator[int]:
    """Headless Chromium with ``microphone`` as its (looped) capture device; its DevTools port."""
    profile.mkdir(parents=True, exist_ok=True)
    with (profile / "chromium.log").open("wb") as log:
        process = subprocess.Popen(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--autoplay-policy=no-user-gesture-required",
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-audio-capture={microphone}",
                f"--user-data-dir={profile}",
                "--remote-debugging-port=0",
                "--window-size=900,860",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    try:
        # Chromium writes the port it chose here once DevTools listens.
        marker = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 15
        while not marker.exists() or not marker.read_text().strip():
            assert process.poll() is None, f"chromium exited; see {profile / 'chromium.log'}"
            assert time.monotonic() < deadline, "chromium did not open its DevTools port"
            time.sleep(0.05)
        yield int(marker.read_text().splitlines()[0])
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Browser:
    """One page of a running Chromium, driven over the DevTools protocol."""

    def __init__(self, devtools_port: int) -> None:
        self._port = devtools_port
        self._socket: Any = None
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._reader: asyncio.Task[None] | None = None
        self.console: list[str] = []

    async def __aenter__(self) -> Browser:
        async with httpx.AsyncClient() as http:
            targets = (await http.get(f"http://127.0.0.1:{self._port}/json/list")).json()
        page = next(t for t in targets if t["type"] == "page")
        self._socket = await websockets.connect(page["webSocketDebuggerUrl"], max_size=None)
        self._reader = asyncio.create_task(self._read(), name="devtools-reader")
        await self.send("Runtime.enable")
        await self.send("Page.enable")
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._socket is not None:
            await self._socket.close()

    async def _read(self) -> None:
        async for raw in self._socket:
            message = json.loads(raw)
            future = self._pending.pop(message.get("id", -1), None)
            if future is not None and not future.done():
                future.set_result(message)
            elif message.get("method") == "Runtime.consoleAPICalled":
                args = message["params"]["args"]
                self.console.append(" ".join(str(a.get("value", a.get("type"))) for a in args))
            elif message.get("method") == "Runtime.exceptionThrown":
                self.console.append(json.dumps(message["params"]["exceptionDetails"])[:500])

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        ident = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[ident] = future
        await self._socket.send(json.dumps({"id": ident, "method": method, "params": params}))
        reply = await asyncio.wait_for(future, 15)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        result: dict[str, Any] = reply.get("result", {})
        return result

    async def evaluate(self, expression: str) -> Any:
        result = await self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_for(self, expression: str, timeout_sec: float, what: str) -> Any:
        # Errors count as "not yet": the page may still be loading.
        guarded = f"(() => {{ try {{ return {expression}; }} catch {{ return null; }} }})()"
        try:
            async with asyncio.timeout(timeout_sec):
                while True:
                    if value := await self.evaluate(guarded):
                        return value
                    await asyncio.sleep(0.1)
        except TimeoutError:
            state = await self.evaluate("document.body.innerText")
            raise AssertionError(f"{what} did not happen; the page shows:\n{state}") from None

    async def click(self, element_id: str) -> None:
        """A real mouse click in the middle of the element (a user gesture)."""
        box = await self.evaluate(
            f"(() => {{ const r = document.getElementById({element_id!r})"
            ".getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()"
        )
        for kind in ("mousePressed", "mouseReleased"):
            await self.send(
                "Input.dispatchMouseEvent",
                type=kind,
                x=box[0],
                y=box[1],
                button="left",
                clickCount=1,
            )

    async def screenshot(self) -> bytes:
        shot = await self.send("Page.captureScreenshot", format="png")
        return base64.b64decode(shot["data"])


async def wait_for_call(
    http: httpx.AsyncClient, call_id: str, done: Any, timeout_sec: float
) -> dict[str, Any]:
    """The stored call once ``done(call)`` holds."""
    async with asyncio.timeout(timeout_sec):
        while True:
            call: dict[str, Any] = (await http.get(f"/call/{call_id}")).json()
            if done(call):
                return call
            await asyncio.sleep(0.2)


@dataclass
class CallOutcome:
    call: dict[str, Any]
    stats: dict[str, Any]  # window.softphoneStats
    screenshots: dict[str, bytes] = field(default_factory=dict)


async def run_call(cluster: Cluster, devtools_port: int, number: str) -> CallOutcome:
    """Opens the page as ``number``, places a call to it, answers, waits for the claim, hangs up."""
    headers = {"Authorization": f"Bearer {cluster.api_key}"}
    screenshots: dict[str, bytes] = {}
    async with (
        httpx.AsyncClient(base_url=cluster.gateway_url, headers=headers, timeout=10) as http,
        Browser(devtools_port) as browser,
    ):
        url = f"{cluster.gateway_url}/softphone?key={cluster.api_key}&number=%2B{number[1:]}"
        await browser.send("Page.navigate", url=url)
        await browser.wait_for("document.body.dataset.state === 'registered'", 15, "registration")
        assert await browser.evaluate("document.body.dataset.number") == number

        reply = await http.post(
            "/call",
            json={
                "bot_company": "Contoso Insurance",
                "bot_name": "Joe",
                "phone_number": number,
                "agent_phone_number": "+14155550199",
                "task": "File your claim.",
                "claim": [
                    {
                        "name": "incident_datetime",
                        "type": "datetime",
                        "description": "When did it happen?",
                    }
                ],
            },
        )
        assert reply.status_code == 201, reply.text
        call_id = reply.json()["call_id"]
        await browser.wait_for("document.body.dataset.state === 'ringing'", 10, "ringing")
        screenshots["ringing"] = await browser.screenshot()
        await browser.click("answer")
        await browser.wait_for("document.body.dataset.state === 'in_call'", 10, "answering")

        await wait_for_call(http, call_id, lambda c: c["claim"].get("incident_datetime"), 40)
        await browser.wait_for(
            "!!(document.querySelector('.msg.caller') && document.querySelector('.msg.assistant'))",
            10,
            "the live transcript",
        )
        screenshots["in-call"] = await browser.screenshot()

        await browser.click("hangup")
        await browser.wait_for("document.body.dataset.state === 'registered'", 10, "hanging up")
        notice = await browser.evaluate("document.getElementById('notice').textContent")
        assert notice == "Call ended (caller hangup)."
        stats = await browser.evaluate("window.softphoneStats")
        call = await wait_for_call(http, call_id, lambda c: c["state"] == "ended", 10)
    return CallOutcome(call, stats, screenshots)


def test_the_softphone_page_takes_a_call_and_its_microphone_fills_the_claim(
    cluster: Cluster, tmp_path: Path
) -> None:
    microphone = tmp_path / "callee.wav"
    write_microphone(
        microphone, asyncio.run(synthesise(cluster.ports.grpc_address("speech"), ANSWER))
    )
    with chromium(tmp_path / "profile", microphone) as devtools_port:
        outcome = asyncio.run(run_call(cluster, devtools_port, unique_number()))
    keep = os.environ.get(SCREENSHOT_ENV)
    for name, png in outcome.screenshots.items():
        (tmp_path / f"softphone-{name}.png").write_bytes(png)
        if keep:
            (Path(keep) / f"softphone-{name}.png").write_bytes(png)

    call = outcome.call
    assert call["claim"]["incident_datetime"] == YESTERDAY_9AM
    bot = [m["content"] for m in call["messages"] if m["persona"] == "assistant"]
    assert bot and bot[0].startswith(GREETING)
    assert any("yesterday" in m["content"].lower() for m in call["messages"])
    # 20 ms frames both ways: the microphone streamed and the bot was heard.
    assert outcome.stats["framesSent"] > 250
    assert outcome.stats["framesHeard"] > 100
    assert outcome.stats["closes"] == []
