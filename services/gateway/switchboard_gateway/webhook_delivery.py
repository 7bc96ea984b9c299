"""Posting completion webhooks: durable ``webhook`` jobs from the store, signed, retried.

The store queues one ``webhook`` job per ending of a call that has a ``callback_url``,
once the call's report is complete (see ``switchboard_store.control_records``).
:class:`WebhookDispatcher` claims those jobs under a lease, posts the call as
``GET /call/{id}`` returns it, signed with the placing key's secret, and completes the
job on a 2xx answer. Anything else fails the job, which the store hands out again after
its back-off (doubling) until its last try, then keeps it as dead for an operator.

Delivery is at least once: a gateway that dies after the receiver answered but before
the job was completed posts again once the lease expires. Every attempt of one ending
carries the same ``X-Switchboard-Delivery`` id, so a receiver drops repeats by it.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from typing import Protocol

import httpx

from switchboard import domain
from switchboard.call_control import CallWebhook
from switchboard.config import WebhookSettings
from switchboard.errors import NotFound
from switchboard.job_worker import JobFailed, JobWorker
from switchboard.jobs import WEBHOOK, Job
from switchboard_gateway import webhook_signing
from switchboard_gateway.views import call_view
from switchboard_gateway.webhook_targets import TargetRefused, resolve

log = logging.getLogger(__name__)

USER_AGENT = "Switchboard-Webhooks/1"


class WebhookJobs(Protocol):
    """What the dispatcher needs from the store (``StoreClient`` and ``CallControlStore``)."""

    async def claim_job(self, worker: str, kinds: list[str], lease_sec: float) -> Job | None: ...

    async def complete_job(self, job_id: str, lease_token: str) -> Job: ...

    async def fail_job(self, job_id: str, lease_token: str, error: str) -> Job: ...

    async def get_call(self, call_id: str) -> domain.Call: ...

    async def get_call_webhook(self, call_id: str) -> CallWebhook: ...

    async def close(self) -> None: ...


class DeliveryFailed(JobFailed):
    """This attempt did not land; the message is stored with the job (no call data)."""


def webhook_body(call: domain.Call, delivery_id: str, public_url: str) -> bytes:
    """The JSON posted for a call's ending: the event, the delivery id and the call."""
    base = public_url.rstrip("/")
    view = call_view(call, f"{base}/report/{call.call_id}" if base else "")
    payload = {
        "event": webhook_signing.CALL_ENDED,
        "delivery_id": delivery_id,
        "call": view.model_dump(mode="json"),
    }
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


class WebhookDispatcher(JobWorker):
    """Claims webhook jobs one at a time and posts them."""

    kind = WEBHOOK

    def __init__(
        self,
        store: WebhookJobs,
        api_keys: Sequence[str],
        settings: WebhookSettings,
        worker_id: str,
        public_url: str = "",
        clock: Callable[[], float] = time.time,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(store, worker_id, settings.lease_sec, settings.poll_sec)
        self._store = store
        self._secrets = {
            webhook_signing.client_id(k): webhook_signing.webhook_secret(k) for k in api_keys if k
        }
        self._settings = settings
        self._public_url = public_url
        self._clock = clock
        self._http = http or httpx.AsyncClient(follow_redirects=False, trust_env=False)

    async def stop(self) -> None:
        """Ends the loop (a delivery in progress is handed back); closes HTTP and the store."""
        await super().stop()
        await self._http.aclose()
        await self._store.close()

    async def work(self, job: Job) -> None:
        status = await self._deliver(job)
        log.info("webhook answered", extra={"job_id": job.job_id, "status": status})

    async def _deliver(self, job: Job) -> int:
        """Posts the job's call once; its HTTP status, or DeliveryFailed."""
        try:
            webhook = await self._store.get_call_webhook(job.call_id)
        except NotFound as exc:
            raise DeliveryFailed("the call has no webhook") from exc
        secret = self._secrets.get(webhook.client)
        if secret is None:
            raise DeliveryFailed("the API key that placed the call is no longer configured")
        try:
            target = await resolve(webhook.url, self._settings.allow_hosts)
        except TargetRefused as exc:
            raise DeliveryFailed(f"callback_url refused: {exc}") from exc
        call = await self._store.get_call(job.call_id)
        body = webhook_body(call, job.job_id, self._public_url)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "Host": httpx.URL(webhook.url).netloc.decode(),
            webhook_signing.EVENT_HEADER: webhook_signing.CALL_ENDED,
            webhook_signing.DELIVERY_HEADER: job.job_id,
            webhook_signing.SIGNATURE_HEADER: webhook_signing.signature(
                secret, int(self._clock()), body
            ),
        }
        try:
            answer = await self._http.post(
                target.url,
                content=body,
                headers=headers,
                timeout=self._settings.timeout_sec,
                # TLS checks the name, not the address the connection was pinned to.
                extensions={"sni_hostname": target.host},
            )
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"{type(exc).__name__} posting the webhook") from exc
        if not 200 <= answer.status_code < 300:
            raise DeliveryFailed(f"the receiver answered HTTP {answer.status_code}")
        return answer.status_code
