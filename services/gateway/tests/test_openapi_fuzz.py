"""schemathesis against the gateway's own OpenAPI document: no 5xx, no answer the
document does not describe (status, content type, body or headers), 405 with ``Allow``
for methods a path does not take, and every malformed request refused with a 4xx.

Not checked: that every schema-valid request is accepted. A JSON schema cannot say
which strings are IANA zones or dialable numbers, so those are refused with a 422 the
schema does not predict. The backend is the in-memory one: the REST edge is tested.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks

from switchboard.config import Settings
from switchboard_gateway.app import create_app
from switchboard_gateway.memory_backend import InMemoryCallBackend

API_KEY = "test-key-0123456789"
EXAMPLES_PER_OPERATION = 40

app = create_app(
    Settings.model_validate(
        # Limits off: hypothesis sends hundreds of requests from one address in a second.
        {
            "gateway": {
                "api_keys": [API_KEY],
                "rate_limits": {
                    "calls_per_key": 0,
                    "calls_per_address": 0,
                    "pages_per_key": 0,
                    "pages_per_address": 0,
                },
            }
        }
    ),
    InMemoryCallBackend(),
)
schema = schemathesis.openapi.from_dict(app.openapi())
schema.app = app


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_the_gateway_answers_as_its_openapi_document_says(case: schemathesis.Case) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {API_KEY}"}, checks=CHECKS)


CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
    checks.negative_data_rejection,
    checks.unsupported_method,
    checks.allow_header_conformance,
]
