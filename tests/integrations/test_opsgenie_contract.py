"""The Opsgenie adapter against Opsgenie's official Swagger 2.0 document."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

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


UNTIL = AT + timedelta(days=14)
BOB_SCHEDULES = {
    "data": [
        {"id": "sched-pay", "name": "payments_schedule", "enabled": True},
        {"id": "sched-old", "name": "retired_schedule", "enabled": False},
        {"id": "sched-db", "name": "databases_schedule", "enabled": True},
    ],
    "took": 0.1,
    "requestId": "req-3",
}


def _period(user: str, start: datetime, end: datetime, **extra: object) -> dict[str, object]:
    return {
        "startDate": start.isoformat().replace("+00:00", "Z"),
        "endDate": end.isoformat().replace("+00:00", "Z"),
        "type": "default",
        "recipient": {"id": f"id-{user}", "name": user, "type": "user"},
        **extra,
    }


def _timeline(name: str, periods: list[dict[str, object]]) -> dict[str, object]:
    return {
        "data": {
            "_parent": {"id": f"id-{name}", "name": name, "enabled": True},
            "startDate": AT.isoformat(),
            "endDate": UNTIL.isoformat(),
            "finalTimeline": {"rotations": [{"id": "r1", "name": "weekly", "periods": periods}]},
        },
        "expandable": ["base", "forwarding", "override"],
        "took": 0.2,
        "requestId": "req-4",
    }


TIMELINES = {
    "sched-pay": _timeline(
        "payments_schedule",
        [
            _period("bob@example.com", AT - timedelta(days=1), AT + timedelta(days=1)),
            _period("carol@example.com", AT + timedelta(days=1), AT + timedelta(days=8)),
            _period("bob@example.com", UNTIL, UNTIL + timedelta(days=7)),  # starts at the end
        ],
    ),
    "sched-db": _timeline(
        "databases_schedule",
        [
            {
                **_period("db-team", AT + timedelta(days=2), AT + timedelta(days=3)),
                "recipient": {"id": "t1", "name": "db-team", "type": "team"},
                "flattenedRecipients": [
                    {"id": "u9", "name": "erin@example.com", "type": "user"},
                    {"id": "u1", "name": "BOB@example.com", "type": "user"},
                ],
            }
        ],
    ),
}


def test_shifts_of_a_person_come_from_their_schedules_timelines(contract: Contract) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        operation = contract.check_request(request)
        if request.url.path.endswith("/schedules"):
            body = BOB_SCHEDULES
        else:
            body = TIMELINES[request.url.path.split("/")[3]]
        contract.validate(body, contract.response_schema(operation, "200"))
        return httpx.Response(200, json=body)

    shifts = Opsgenie(_client(handler), api_key=KEY).shifts_for(
        email="Bob@Example.com", slack_user_id="U0BOB", since=AT, until=UNTIL
    )

    paths = [r.url.raw_path.decode().partition("?")[0] for r in seen]
    assert paths == [
        "/v2/users/bob%40example.com/schedules",
        "/v2/schedules/sched-pay/timeline",  # the disabled schedule is not read
        "/v2/schedules/sched-db/timeline",
    ]
    params = seen[1].url.params
    assert params["identifierType"] == "id" and params["intervalUnit"] == "days"
    assert params["interval"] == "14" and params["date"] == "2026-11-26T12:00:00Z"
    assert [(s.schedule, s.start, s.end) for s in shifts] == [
        ("payments_schedule", AT - timedelta(days=1), AT + timedelta(days=1)),
        ("databases_schedule", AT + timedelta(days=2), AT + timedelta(days=3)),
    ]


def test_someone_opsgenie_does_not_know_has_no_shifts(contract: Contract) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        contract.check_request(request)
        body = {"message": "No user exists with username [x]", "took": 0.0, "requestId": "r"}
        return httpx.Response(404, json=body)

    adapter = Opsgenie(_client(handler), api_key=KEY)
    assert (
        adapter.shifts_for(email="x@example.com", slack_user_id=None, since=AT, until=UNTIL) == []
    )
    assert adapter.shifts_for(email=None, slack_user_id="U0X", since=AT, until=UNTIL) == []


def test_shifts_when_opsgenie_is_down_are_unavailable_without_the_key() -> None:
    adapter = Opsgenie(_client(lambda _: httpx.Response(502, text="bad gateway")), api_key=KEY)
    with pytest.raises(ProviderUnavailable) as raised:
        adapter.shifts_for(email="bob@example.com", slack_user_id=None, since=AT, until=UNTIL)
    assert KEY not in str(raised.value)
