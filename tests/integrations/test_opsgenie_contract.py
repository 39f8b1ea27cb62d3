"""The Opsgenie adapter against Opsgenie's official Swagger 2.0 document."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest

from integrations.errors import ProviderRejected, ProviderUnavailable
from integrations.opsgenie import Opsgenie
from integrations.protocols import OnCallTarget, PageRequest
from tests.integrations.openapi_contract import Contract, spec_path

AT = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
KEY = "og-test-api-key"


@pytest.fixture(scope="module")
def contract() -> Contract:
    return Contract(spec_path("opsgenie", "swagger.json"))


def _client(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.Client:
    return httpx.Client(
        base_url="https://api.opsgenie.com",
        transport=httpx.MockTransport(handler),
        timeout=httpx.Timeout(2.0),
    )


NOW = {
    "data": {
        "_parent": {"id": "d875-alpha", "name": "payments_schedule", "enabled": True},
        "onCallParticipants": [{"id": "u-1", "name": "bob@example.com", "type": "user"}],
        "onCallRecipients": ["bob@example.com"],
    },
    "took": 0.1,
    "requestId": "req-1",
}
# The spec declares the next-on-call lists with the item types the other way round from the
# live API; this answer follows the spec, and the adapter reads either form.
NEXT = {
    "data": {
        "_parent": {"id": "d875-alpha", "name": "payments_schedule", "enabled": True},
        "nextOnCallRecipients": [{"id": "u-2", "name": "carol@example.com", "type": "user"}],
        "nextOnCallParticipants": ["carol@example.com"],
    },
    "took": 0.1,
    "requestId": "req-2",
}


def test_who_is_on_call_sends_spec_conforming_requests_and_reads_now_and_next(
    contract: Contract,
) -> None:
    paths: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        operation = contract.check_request(request)
        assert request.headers["Authorization"] == f"GenieKey {KEY}"
        assert request.url.params["scheduleIdentifierType"] == "name"
        paths.append(request.url.raw_path.decode().partition("?")[0])
        body = NEXT if request.url.path.endswith("/next-on-calls") else NOW
        contract.validate(body, contract.response_schema(operation, "200"))
        return httpx.Response(200, json=body)

    status = Opsgenie(_client(handler), api_key=KEY).on_call(
        OnCallTarget("schedule", "payments schedule"), at=AT
    )

    assert paths == [
        "/v2/schedules/payments%20schedule/on-calls",
        "/v2/schedules/payments%20schedule/next-on-calls",
    ]
    assert [s.person.email for s in status.current] == ["bob@example.com"]
    assert [s.person.email for s in status.next] == ["carol@example.com"]
    assert status.schedule_name == "payments_schedule"


def test_paging_creates_an_alert_deduplicated_by_alias(contract: Contract) -> None:
    sent: list[dict[str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        operation = contract.check_request(request)
        body = json.loads(request.content)
        contract.validate(body, contract.request_schema(operation))
        sent.append(body)
        answer = {"result": "Request will be processed", "took": 0.2, "requestId": "req-9"}
        contract.validate(answer, contract.response_schema(operation, "202"))
        return httpx.Response(202, json=answer)

    result = Opsgenie(_client(handler), api_key=KEY).page(
        PageRequest(
            target=OnCallTarget("schedule", "payments_schedule"),
            title="payments-api: paged from Slack by Carol",
            details="checkout errors",
            dedup_key="platform-bot-page-V1",
            requester_email="carol@example.com",
            service_name="payments-api",
        )
    )

    assert sent[0]["alias"] == "platform-bot-page-V1"
    assert sent[0]["responders"] == [{"type": "schedule", "name": "payments_schedule"}]
    assert result.reference == "req-9"


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (httpx.Response(500, json={"message": "Internal error", "took": 0.0}), ProviderUnavailable),
        (httpx.Response(403, json={"message": "forbidden", "took": 0.0}), ProviderRejected),
        (httpx.Response(200, text="<html>proxy error</html>"), ProviderUnavailable),
    ],
)
def test_failures_are_integration_errors_without_the_key(
    answer: httpx.Response, error: type[Exception]
) -> None:
    with pytest.raises(error) as raised:
        Opsgenie(_client(lambda _: answer), api_key=KEY).on_call(
            OnCallTarget("schedule", "payments_schedule"), at=AT
        )
    assert KEY not in str(raised.value)
