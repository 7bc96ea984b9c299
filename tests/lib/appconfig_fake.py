"""A loopback fake of the Azure App Configuration key-value REST API, as far as the
``azure-appconfiguration`` SDK uses it to list key-values (``GET /kv``), with the
HMAC-SHA256 signature of every request checked the way the service checks it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

CREDENTIAL_ID = "sb-fake-id"
SECRET = base64.b64encode(b"switchboard-fake-app-configuration-secret").decode()


@dataclass
class FakeStore:
    """Key-values by (key, label); ``label`` None is the null label."""

    values: dict[tuple[str, str | None], str] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)  # path and query of each GET /kv
    rejected: int = 0  # requests whose signature did not verify
    failing: bool = False  # answer 503 to every request

    def set(self, key: str, value: str, label: str | None = None) -> None:
        self.values[(key, label)] = value

    def matching(self, key_filter: str, label_filter: str) -> list[dict[str, Any]]:
        label = None if label_filter in ("\0", "") else label_filter
        prefix = key_filter[:-1] if key_filter.endswith("*") else None
        items = []
        for (key, stored_label), value in sorted(self.values.items(), key=lambda kv: kv[0][0]):
            key_ok = key.startswith(prefix) if prefix is not None else key == key_filter
            if key_ok and stored_label == label:
                items.append(
                    {
                        "etag": hashlib.md5(value.encode()).hexdigest(),
                        "key": key,
                        "label": stored_label,
                        "content_type": None,
                        "value": value,
                        "tags": {},
                        "locked": False,
                        "last_modified": "2026-12-01T00:00:00+00:00",
                    }
                )
        return items


def _signature_ok(handler: BaseHTTPRequestHandler, secret: str) -> bool:
    """The service's check: HMAC-SHA256 over verb, path and query, date, host, body hash."""
    authorization = handler.headers.get("Authorization", "")
    if not authorization.startswith("HMAC-SHA256 "):
        return False
    fields = dict(part.split("=", 1) for part in authorization[len("HMAC-SHA256 ") :].split("&"))
    if fields.get("Credential") != CREDENTIAL_ID:
        return False
    if fields.get("SignedHeaders") != "x-ms-date;host;x-ms-content-sha256":
        return False
    body_hash = base64.b64encode(hashlib.sha256(b"").digest()).decode()
    if handler.headers.get("x-ms-content-sha256") != body_hash:
        return False
    string_to_sign = "\n".join(
        [
            handler.command,
            handler.path,
            f"{handler.headers['x-ms-date']};{handler.headers['Host']};{body_hash}",
        ]
    )
    expected = base64.b64encode(
        hmac.new(base64.b64decode(secret), string_to_sign.encode(), hashlib.sha256).digest()
    ).decode()
    return hmac.compare_digest(expected, fields.get("Signature", ""))


def _handler(store: FakeStore) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the tests assert on ``store.requests``."""

        def _send(self, status: int, body: dict[str, Any]) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/vnd.microsoft.appconfig.kvset+json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:
            if not _signature_ok(self, SECRET):
                store.rejected += 1
                self._send(401, {"error": "invalid signature"})
                return
            url = urlsplit(self.path)
            if url.path != "/kv":
                self._send(404, {"error": "not found"})
                return
            store.requests.append(self.path)
            if store.failing:
                self._send(503, {"error": "unavailable"})
                return
            query = parse_qs(url.query, keep_blank_values=True)
            items = store.matching(query.get("key", ["*"])[0], query.get("label", ["\0"])[0])
            self._send(200, {"items": items})

    return Handler


@contextmanager
def serve(store: FakeStore) -> Iterator[str]:
    """Serves ``store`` on a loopback port; yields a connection string for it."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(store))
    # The SDK keeps its connection alive: do not wait for those handler threads on close.
    server.daemon_threads = True
    server.block_on_close = False
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-app-configuration"
    )
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"Endpoint=http://{host}:{port};Id={CREDENTIAL_ID};Secret={SECRET}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
