"""The ``acs`` carrier end to end: five services as processes, the real ACS SDKs, a fake ACS.

The dialer runs ``dialer.telephony: acs`` and ``dialer.sms: acs`` with its endpoint on
the fake (:mod:`switchboard_testing.fake_acs`), which dials back into the gateway's media
URL with a signed JWT and speaks a Piper-voiced callee. Everything ACS would send
the gateway is authenticated as ACS's would be: a JWT signed with the fake's key
(served as the JWKS the gateway is configured with) and the per-call token.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import grpc
import httpx
import pytest
import websockets

from switchboard.v1 import dialer_pb2, dialer_pb2_grpc
from switchboard_cli.launcher import Cluster, ClusterPorts, free_port
from switchboard_testing.fake_acs import AcsSigner, Callee, CalleeLine, FakeAcs, FakeCall
from switchboard_testing.voices import spoken_pcm
from tests.cluster.harness import FIXED_NOW, unique_number

pytestmark = pytest.mark.cluster

T = TypeVar("T")

BOT_NUMBER = "+18005550100"
AGENT = "+14155550199"
ANSWER = "It happened yesterday at 9 am."
# FIXED_NOW is Tuesday 24 November 2026, 07:00 in California (a +1415 number's zone).
YESTERDAY_9AM = "2026-11-23T09:00:00-08:00"
GREETING = "Hello, this is Joe from Contoso Insurance."
EVENT_GRID_SECRET = secrets.token_urlsafe(16)
CLAIM = [{"name": "incident_datetime", "type": "datetime", "description": "When did it happen?"}]


class AcsCluster:
    def __init__(self, cluster: Cluster, fake_port: int, signer: AcsSigner) -> None:
        self.cluster = cluster
        self.fake_port = fake_port
        self.signer = signer
        self.voice: dict[str, bytes] = {}

    def fake(self) -> FakeAcs:
        return FakeAcs(self.fake_port, self.signer, self.cluster.gateway_url)

    def speak(self, text: str) -> bytes:
        if text not in self.voice:
            address = self.cluster.ports.grpc_address("speech")
            [self.voice[text]] = asyncio.run(spoken_pcm(address, [text], 16000, "acs-callee"))
        return self.voice[text]


@pytest.fixture(scope="module")
def acs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AcsCluster]:
    root = tmp_path_factory.mktemp("acs-cluster")
    fake_port = free_port()
    signer = AcsSigner()
    fake_endpoint = f"http://127.0.0.1:{fake_port}"
    ports = ClusterPorts.free()
    cluster = Cluster(
        ports=ports,
        api_key=secrets.token_urlsafe(16),
        data_dir=root / "data",
        log_dir=root / "logs",
        env={
            "SWITCHBOARD_CONFIG": str(root / "switchboard.yaml"),
            "SWITCHBOARD__BRAIN__FIXED_NOW": FIXED_NOW,
            "SWITCHBOARD__LOGGING__LEVEL": "DEBUG",
            "SWITCHBOARD__DIALER__RING_TIMEOUT_SEC": "10",
            "SWITCHBOARD__DIALER__TELEPHONY": "acs",
            "SWITCHBOARD__DIALER__SMS": "acs",
            "SWITCHBOARD__ACS__ENDPOINT": fake_endpoint,
            # AzureKeyCredential signs requests with HMAC: the key must be base64.
            "SWITCHBOARD__ACS__ACCESS_KEY": "ZmFrZS1hY3Mta2V5LWZvci10ZXN0cw==",
            "SWITCHBOARD__ACS__CALLER_ID": BOT_NUMBER,
            "SWITCHBOARD__ACS__PUBLIC_URL": f"http://127.0.0.1:{ports.gateway}",
            "SWITCHBOARD__ACS__URL_SIGNING_KEY": secrets.token_urlsafe(24),
            "SWITCHBOARD__ACS__EVENT_GRID_SECRET": EVENT_GRID_SECRET,
            "SWITCHBOARD__ACS__RESOURCE_ID": signer.resource_id,
            "SWITCHBOARD__ACS__JWKS_URL": f"{fake_endpoint}/calling/keys",
            "SWITCHBOARD__ACS__TRANSFER_TIMEOUT_SEC": "5",
        },
    )
    cluster.start()
    try:
        yield AcsCluster(cluster, fake_port, signer)
    finally:
        cluster.stop()


def run(acs: AcsCluster, scenario: Callable[[FakeAcs, httpx.AsyncClient], Awaitable[T]]) -> T:
    """Runs ``scenario`` with a fresh fake ACS and an API client, in one event loop."""

    async def main() -> T:
        headers = {"Authorization": f"Bearer {acs.cluster.api_key}"}
        async with (
            acs.fake() as fake,
            httpx.AsyncClient(
                base_url=acs.cluster.gateway_url, headers=headers, timeout=10
            ) as http,
        ):
            return await scenario(fake, http)

    return asyncio.run(main())


async def wait_for_call(
    http: httpx.AsyncClient, call_id: str, done: Callable[[dict[str, Any]], Any], within_sec: float
) -> dict[str, Any]:
    async with asyncio.timeout(within_sec):
        while True:
            call: dict[str, Any] = (await http.get(f"/call/{call_id}")).json()
            if done(call):
                return call
            await asyncio.sleep(0.2)


async def wait_until(check: Callable[[], Any], within_sec: float, what: str) -> None:
    try:
        async with asyncio.timeout(within_sec):
            while not check():  # noqa: ASYNC110 - polls state another task or process changes
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


async def place_call(http: httpx.AsyncClient, number: str) -> str:
    reply = await http.post(
        "/call",
        json={
            "bot_company": "Contoso Insurance",
            "bot_name": "Joe",
            "phone_number": number,
            "agent_phone_number": AGENT,
            "task": "File your claim.",
            "claim": CLAIM,
        },
    )
    assert reply.status_code == 201, reply.text
    return str(reply.json()["call_id"])


async def connected_call(fake: FakeAcs, within_sec: float = 15) -> FakeCall:
    await wait_until(lambda: fake.calls, within_sec, "the dialer's create_call")
    call = fake.only_call()
    await wait_until(lambda: call.bot_frames > 0, within_sec, "the bot's first audio")
    return call


def test_an_outbound_acs_call_fills_the_claim_from_the_callees_spoken_answer(
    acs: AcsCluster,
) -> None:
    answer = acs.speak(ANSWER)

    async def scenario(fake: FakeAcs, http: httpx.AsyncClient) -> tuple[dict[str, Any], FakeCall]:
        fake.next_callee = Callee(lines=[CalleeLine(answer)])
        number = unique_number()
        call_id = await place_call(http, number)
        call = await connected_call(fake)
        assert call.target == number
        assert call.media_url.startswith(f"ws://127.0.0.1:{acs.cluster.ports.gateway}/acs/media/")
        stored = await wait_for_call(
            http, call_id, lambda c: c["claim"].get("incident_datetime"), 60
        )
        assert stored["state"] == "in_progress"
        await fake.hang_up(call)
        stored = await wait_for_call(http, call_id, lambda c: c["state"] == "ended", 10)
        return stored, call

    stored, call = run(acs, scenario)
    assert stored["claim"]["incident_datetime"] == YESTERDAY_9AM
    bot = [m["content"] for m in stored["messages"] if m["persona"] == "assistant"]
    assert bot and bot[0].startswith(GREETING)
    # The bot was heard as PCM 16 kHz: seconds of it, in 20 ms frames.
    assert call.bot_frames > 100
    assert len(call.bot_audio) == call.bot_frames * 640


def test_acs_callbacks_without_a_valid_jwt_or_token_are_refused_and_change_nothing(
    acs: AcsCluster,
) -> None:
    async def scenario(fake: FakeAcs, http: httpx.AsyncClient) -> None:
        fake.next_callee = Callee()
        call_id = await place_call(http, unique_number())
        call = await connected_call(fake)
        hangup = [fake.event(call, "CallDisconnected")]
        wrong_key = AcsSigner()._key  # same key id, another key: the signature fails
        refusals = {
            "missing": (None, 401),
            "garbage": ("not-a-jwt", 401),
            "expired": (fake.signer.token(expires_in=-600), 401),
            "wrong audience": (fake.signer.token(audience="another-resource"), 401),
            "wrong key": (fake.signer.token(key=wrong_key), 401),
        }
        for what, (token, status) in refusals.items():
            reply = await fake.post_callback(call, hangup, token=token)
            assert reply.status_code == status, f"{what}: {reply.status_code} {reply.text}"
        # A valid JWT on another call's URL (the token is the call's own): forbidden.
        base, _, _ = call.callback_url.rpartition("/")
        reply = await fake._http.post(
            base + "/" + "0" * 32,
            json=hangup,
            headers={"Authorization": f"Bearer {fake.signer.token()}"},
        )
        assert reply.status_code == 403
        # The media socket is refused in its handshake without the JWT or with a bad token.
        for url, headers in (
            (call.media_url, {}),
            (
                base.replace("/callbacks/", "/media/").replace("http", "ws") + "/" + "0" * 32,
                {"Authorization": f"Bearer {fake.signer.token()}"},
            ),
        ):
            with pytest.raises(websockets.InvalidStatus) as refused:
                async with websockets.connect(url, additional_headers=headers):
                    pass
            assert refused.value.response.status_code == 403
        # Nothing changed: the call is live and the bot still talks.
        await asyncio.sleep(0.5)
        stored = (await http.get(f"/call/{call_id}")).json()
        assert stored["state"] == "in_progress"
        assert not call.media_closed.is_set()

        # Replays: an event is acted on once, however often it is delivered.
        connected = [fake.event(call, "CallConnected")]
        first = await fake.post_callback(call, connected)
        again = await fake.post_callback(call, connected)
        assert (first.status_code, first.json()) == (200, {"accepted": 1})
        assert (again.status_code, again.json()) == (200, {"accepted": 0})
        await fake.post_callback(call, hangup)
        ended = await wait_for_call(http, call_id, lambda c: c["state"] == "ended", 10)
        replayed = await fake.post_callback(call, hangup)
        assert replayed.status_code in (200, 404)
        await asyncio.sleep(0.3)
        after = (await http.get(f"/call/{call_id}")).json()
        # (updated_at moves on: the post-call report is written after the end.)
        assert (after["state"], after["state_reason"]) == (ended["state"], ended["state_reason"])

    run(acs, scenario)


def test_event_grid_validation_is_answered_and_needs_the_subscription_secret(
    acs: AcsCluster,
) -> None:
    async def scenario(fake: FakeAcs, http: httpx.AsyncClient) -> None:
        handshake = [
            {
                "id": "v1",
                "eventType": "Microsoft.EventGrid.SubscriptionValidationEvent",
                "data": {"validationCode": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6"},
            }
        ]
        reply = await fake.deliver_events(handshake, EVENT_GRID_SECRET)
        assert reply.status_code == 200
        assert reply.json() == {"validationResponse": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6"}
        assert (await fake.deliver_events(handshake, "wrong")).status_code == 403
        no_secret = await fake._http.post(f"{fake.gateway_url}/acs/events", json=handshake)
        assert no_secret.status_code == 401

    run(acs, scenario)


def test_a_callee_talking_over_the_bot_gets_stop_audio_in_the_frame_the_playout_stops(
    acs: AcsCluster,
) -> None:
    answer = acs.speak(ANSWER)

    async def scenario(fake: FakeAcs, http: httpx.AsyncClient) -> tuple[dict[str, Any], FakeCall]:
        fake.next_callee = Callee(lines=[CalleeLine(answer, barge_in_after_sec=1.0)])
        call_id = await place_call(http, unique_number())
        call = await connected_call(fake)
        await wait_until(call.stops, 15, "StopAudio")
        # The pause becomes an interruption once the callee's words are understood.
        await wait_for_call(http, call_id, lambda c: c["claim"].get("incident_datetime"), 40)
        await fake.hang_up(call)
        stored = await wait_for_call(http, call_id, lambda c: c["state"] == "ended", 10)
        return stored, call

    stored, call = run(acs, scenario)
    stop = call.stops()[0]
    assert call.barged_at is not None and call.barged_at < stop
    before = [e.at for e in call.bot_events if e.kind == "audio" and e.at <= stop]
    after = [e.at for e in call.bot_events if e.kind == "audio" and stop < e.at < stop + 0.3]
    # StopAudio follows the last bot frame by at most one frame slot (20 ms, plus loopback
    # jitter on a shared machine), and no bot audio follows it while the callee talks.
    assert stop - before[-1] <= 0.06, f"StopAudio {1000 * (stop - before[-1]):.0f} ms late"
    assert after == []
    # The brain's history holds the greeting as interrupted: only what was played.
    greeting = next(m for m in stored["messages"] if m["persona"] == "assistant")
    assert greeting["interrupted"] is True, stored["messages"]
    assert not greeting["content"].endswith("When did it happen?")


def test_touch_tones_from_the_acs_media_stream_reach_the_brain(acs: AcsCluster) -> None:
    async def scenario(fake: FakeAcs, http: httpx.AsyncClient) -> dict[str, Any]:
        fake.next_callee = Callee(dtmf_after_greeting="42#")
        call_id = await place_call(http, unique_number())
        call = await connected_call(fake)
        stored = await wait_for_call(
            http, call_id, lambda c: any(m["action"] == "dtmf" for m in c["messages"]), 30
        )
        await fake.hang_up(call)
        return stored

    stored = run(acs, scenario)
    tones = [m for m in stored["messages"] if m["action"] == "dtmf"]
    # One keypad entry, ended by its hash (which is not part of it).
    assert [(m["persona"], m["content"]) for m in tones] == [("human", "42")]


def test_an_inbound_acs_call_arrives_through_event_grid_and_is_answered_once(
    acs: AcsCluster,
) -> None:
    async def scenario(fake: FakeAcs, http: httpx.AsyncClient) -> tuple[dict[str, Any], FakeCall]:
        fake.next_callee = Callee()
        caller = unique_number()
        reply = await fake.ring_in(caller, BOT_NUMBER, EVENT_GRID_SECRET)
        assert (reply.status_code, reply.json()) == (200, {"accepted": 1})
        call = await connected_call(fake)
        assert call.direction == "inbound"
        listed = (await http.get("/call", params={"phone_number": caller})).json()
        call_id = listed[0]["call_id"]
        stored = await wait_for_call(http, call_id, lambda c: c["state"] == "in_progress", 10)
        assert stored["direction"] == "inbound"
        await wait_until(lambda: call.bot_frames > 50, 10, "the bot's greeting")
        duplicate = await fake.deliver_events(fake.delivered[-1], EVENT_GRID_SECRET)
        assert (duplicate.status_code, duplicate.json()) == (200, {"accepted": 0})
        await fake.hang_up(call)
        stored = await wait_for_call(http, call_id, lambda c: c["state"] == "ended", 10)
        fake_calls.extend(fake.calls)
        return stored, call

    fake_calls: list[str] = []
    stored, _ = run(acs, scenario)
    assert len(fake_calls) == 1  # the duplicated IncomingCall was not answered again
    assert stored["state_reason"] == "caller_hangup"


def test_an_sms_goes_out_through_acs_from_the_acs_number(acs: AcsCluster) -> None:
    async def scenario(fake: FakeAcs, http: httpx.AsyncClient) -> dict[str, Any]:
        fake.next_callee = Callee()
        number = unique_number()
        call_id = await place_call(http, number)
        call = await connected_call(fake)
        async with grpc.aio.insecure_channel(acs.cluster.ports.grpc_address("dialer")) as channel:
            stub = dialer_pb2_grpc.DialerStub(channel)  # type: ignore[no-untyped-call]
            reply = await stub.SendSms(
                dialer_pb2.SendSmsRequest(call_id=call_id, to=number, text="Your claim is filed.")
            )
        assert reply.provider_message_id.startswith("sms-")
        await fake.hang_up(call)
        # The post-call SMS summary goes out through ACS too, once the call has ended.
        ours = [s for s in fake.sms if s["message"] == "Your claim is filed."]
        assert len(ours) == 1
        sent = ours[0]
        assert sent["from"] == BOT_NUMBER
        assert [r["to"] for r in sent["smsRecipients"]] == [number]
        assert sent["message"] == "Your claim is filed."
        return await wait_for_call(http, call_id, lambda c: c["state"] == "ended", 10)

    stored = run(acs, scenario)
    texts = [m["content"] for m in stored["messages"] if m["action"] == "sms"]
    assert texts.count("Your claim is filed.") == 1


ASK_FOR_A_PERSON = "I want to talk to a person."


def test_a_caller_asking_for_a_person_is_transferred_by_acs_and_the_call_ends(
    acs: AcsCluster,
) -> None:
    person = acs.speak(ASK_FOR_A_PERSON)

    async def scenario(fake: FakeAcs, http: httpx.AsyncClient) -> tuple[dict[str, Any], FakeCall]:
        fake.reachable_transfer_targets = {AGENT}
        fake.next_callee = Callee(lines=[CalleeLine(person)])
        call_id = await place_call(http, unique_number())
        call = await connected_call(fake)
        stored = await wait_for_call(http, call_id, lambda c: c["state"] == "ended", 60)
        return stored, call

    stored, call = run(acs, scenario)
    assert call.transfers == [AGENT]
    assert stored["state_reason"] == "transferred"
    # The bot said a line before handing the caller over: audio after the caller's request.
    assert call.transfer_settled_at is not None


def test_a_transfer_acs_cannot_complete_is_announced_and_the_call_goes_on(
    acs: AcsCluster,
) -> None:
    person, answer = acs.speak(ASK_FOR_A_PERSON), acs.speak(ANSWER)

    async def scenario(fake: FakeAcs, http: httpx.AsyncClient) -> tuple[dict[str, Any], FakeCall]:
        fake.reachable_transfer_targets = set()  # every transfer fails
        fake.next_callee = Callee(
            lines=[CalleeLine(person), CalleeLine(answer, after_quiet_sec=1.5)]
        )
        call_id = await place_call(http, unique_number())
        call = await connected_call(fake)
        await wait_until(lambda: call.transfer_settled_at, 60, "the failed transfer")
        settled = call.transfer_settled_at
        assert settled is not None
        # The caller hears a line about it (bot audio after the failure) ...
        await wait_until(
            lambda: sum(e.kind == "audio" and e.at > settled for e in call.bot_events) > 50,
            10,
            "the bot's line about the failed transfer",
        )
        # ... and stays on a live call.
        stored = await wait_for_call(http, call_id, lambda c: c["state"] == "in_progress", 10)
        assert stored["state_reason"] == "transfer_failed"
        assert not call.media_closed.is_set()
        # The conversation goes on: the callee's next answer fills the claim.
        await wait_for_call(http, call_id, lambda c: c["claim"].get("incident_datetime"), 40)
        await fake.hang_up(call)
        return await wait_for_call(http, call_id, lambda c: c["state"] == "ended", 10), call

    stored, call = run(acs, scenario)
    assert call.transfers == [AGENT]
    assert stored["state_reason"] == "caller_hangup"


def test_the_bot_ending_the_call_hangs_it_up_for_everyone_through_acs(acs: AcsCluster) -> None:
    goodbye = acs.speak("No, that's all, thank you. Goodbye!")

    async def scenario(fake: FakeAcs, http: httpx.AsyncClient) -> tuple[dict[str, Any], FakeCall]:
        fake.next_callee = Callee(lines=[CalleeLine(goodbye)])
        call_id = await place_call(http, unique_number())
        call = await connected_call(fake)
        stored = await wait_for_call(http, call_id, lambda c: c["state"] == "ended", 60)
        await wait_until(call.media_closed.is_set, 10, "the media socket to close")
        return stored, call

    stored, call = run(acs, scenario)
    assert call.hung_up_by_bot  # POST …:terminate, as hang_up(is_for_everyone=True) sends
    assert stored["state_reason"] not in ("caller_hangup", "line_dropped")
