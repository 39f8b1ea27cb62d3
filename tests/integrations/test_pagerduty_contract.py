"""The PagerDuty adapter against PagerDuty's official REST API v2 OpenAPI document."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from integrations.errors import ProviderNotFound, ProviderRejected, ProviderUnavailable
from integrations.pagerduty import ACCEPT, PagerDuty
from integrations.protocols import OnCallTarget, PageRequest
from tests.integrations.openapi_contract import Contract, spec_path

AT = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
TOKEN = "u+pd-test-token"


@pytest.fixture(scope="module")
def contract() -> Contract:
    return Contract(spec_path("pagerduty", "rest-openapiv3.json"))


def _client(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.Client:
    return httpx.Client(
        base_url="https://api.pagerduty.com",
        transport=httpx.MockTransport(handler),
        timeout=httpx.Timeout(2.0),
    )


def _oncalls_answer(contract: Contract) -> dict[str, object]:
    """The spec's own example, with shifts around AT: level 1 now and next, level 2 now."""
    example = contract.response_example(contract.operation("GET", "/oncalls"), "200")
    template = example["oncalls"][0]
    shifts = []
    for user_id, level, start, end in (
        ("PNOW001", 1, AT - timedelta(hours=3), AT + timedelta(hours=21)),
        ("PNEXT01", 1, AT + timedelta(hours=21), AT + timedelta(days=8)),
        ("PBACKUP", 2, AT - timedelta(days=2), AT + timedelta(days=5)),
    ):
        shift = json.loads(json.dumps(template))
        shift["user"].update(id=user_id, summary=f"User {user_id}")
        shift["escalation_level"] = level
        shift["start"], shift["end"] = start.isoformat(), end.isoformat()
        shifts.append(shift)
    example["oncalls"] = shifts
    return example


def test_on_call_for_a_service_sends_spec_conforming_requests_and_reads_the_answer(
    contract: Contract,
) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        operation = contract.check_request(request)
        assert request.headers["Authorization"] == f"Token token={TOKEN}"
        assert request.headers["Accept"] == ACCEPT
        if request.url.path == "/services/PSVC001":
            body = contract.response_example(operation, "200")
        else:
            body = _oncalls_answer(contract)
        contract.validate(body, contract.response_schema(operation, "200"))
        return httpx.Response(200, json=body)

    status = PagerDuty(_client(handler), token=TOKEN).on_call(
        OnCallTarget("service", "PSVC001"), at=AT
    )

    assert [r.url.path for r in seen] == ["/services/PSVC001", "/oncalls"]
    params = seen[1].url.params
    assert params.get_list("escalation_policy_ids[]") == ["PT20YPA"]  # from the service
    assert params["earliest"] == "true" and params.get_list("include[]") == ["users"]
    assert params["since"] == "2026-11-26T12:00:00Z"
    assert [(s.person.provider_id, s.level) for s in status.current] == [
        ("PNOW001", 1),
        ("PBACKUP", 2),
    ]
    assert status.current[0].end == AT + timedelta(hours=21)
    assert [s.person.provider_id for s in status.next] == ["PNEXT01"]


def test_on_call_for_a_schedule_filters_by_schedule(contract: Contract) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        contract.check_request(request)
        assert request.url.params.get_list("schedule_ids[]") == ["PSCHED1"]
        return httpx.Response(200, json=_oncalls_answer(contract))

    status = PagerDuty(_client(handler), token=TOKEN).on_call(
        OnCallTarget("schedule", "PSCHED1"), at=AT
    )
    assert status.current


def test_paging_creates_one_incident_keyed_by_the_dedup_key(contract: Contract) -> None:
    bodies: list[dict[str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        operation = contract.check_request(request)
        assert request.headers["From"] == "carol@example.com"
        body = json.loads(request.content)
        contract.validate(body, contract.request_schema(operation))
        bodies.append(body)
        return httpx.Response(201, json=contract.response_example(operation, "201"))

    result = PagerDuty(_client(handler), token=TOKEN).page(
        PageRequest(
            target=OnCallTarget("service", "PSVC001"),
            title="payments-api: paged from Slack by Carol",
            details="checkout errors at 30%",
            dedup_key="platform-bot-page-V123",
            requester_email="carol@example.com",
            service_name="payments-api",
        )
    )

    assert bodies[0]["incident"]["incident_key"] == "platform-bot-page-V123"  # type: ignore[index]
    assert result.reference == "PT4KHLK"
    assert result.url is not None and result.url.startswith("https://")


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (
            httpx.Response(500, json={"error": {"message": "Internal", "code": 2000}}),
            ProviderUnavailable,
        ),
        (
            httpx.Response(429, json={"error": {"message": "Rate Limit Exceeded"}}),
            ProviderUnavailable,
        ),
        (
            httpx.Response(401, json={"error": {"message": "Unauthorized", "code": 2006}}),
            ProviderRejected,
        ),
        (
            httpx.Response(404, json={"error": {"message": "Not Found", "code": 2100}}),
            ProviderNotFound,
        ),
    ],
)
def test_provider_failures_become_integration_errors_without_the_token(
    answer: httpx.Response, error: type[Exception]
) -> None:
    adapter = PagerDuty(_client(lambda _: answer), token=TOKEN)
    with pytest.raises(error) as raised:
        adapter.on_call(OnCallTarget("escalation_policy", "PT20YPA"), at=AT)
    assert TOKEN not in str(raised.value)


def test_a_timeout_is_unavailable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(ProviderUnavailable, match="timed out"):
        PagerDuty(_client(handler), token=TOKEN).on_call(OnCallTarget("schedule", "P1"), at=AT)


def test_an_id_that_is_not_a_pagerduty_id_never_reaches_the_url() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("no request expected")

    with pytest.raises(ProviderRejected):
        PagerDuty(_client(handler), token=TOKEN).on_call(
            OnCallTarget("service", "../users/me"), at=AT
        )


def _users_answer(contract: Contract, email: str) -> dict[str, object]:
    """The spec's own example: the search matched a name-alike and the person asked about."""
    example = contract.response_example(contract.operation("GET", "/users"), "200")
    first = example["users"][0]
    near = {**json.loads(json.dumps(first)), "id": "PNEAR01", "email": f"not.{email}"}
    match = {**json.loads(json.dumps(first)), "id": "PBOB001", "email": email.upper()}
    example["users"] = [near, match]
    return example


def _user_shifts(contract: Contract) -> dict[str, object]:
    """Bob's shifts as `GET /oncalls` lists them: one running, one reached through a second
    escalation level (the same shift), one starting at the window's end, one permanent."""
    example = contract.response_example(contract.operation("GET", "/oncalls"), "200")
    template = example["oncalls"][0]
    until = AT + timedelta(days=14)
    shifts = []
    for level, schedule, start, end in (
        (1, "Payments primary", AT - timedelta(hours=3), AT + timedelta(hours=21)),
        (2, "Payments primary", AT - timedelta(hours=3), AT + timedelta(hours=21)),
        (1, "Payments primary", until, until + timedelta(days=1)),
        (1, "Payments secondary", AT + timedelta(days=3), AT + timedelta(days=4)),
        (1, None, None, None),
    ):
        shift = json.loads(json.dumps(template))
        shift["user"].update(id="PBOB001", summary="Bob")
        shift["escalation_level"] = level
        shift["start"] = start.isoformat() if start else None
        shift["end"] = end.isoformat() if end else None
        if schedule is None:
            del shift["schedule"]  # a permanent on-call comes from no schedule
        else:
            shift["schedule"]["summary"] = schedule
        shifts.append(shift)
    example["oncalls"] = shifts
    return example


def test_shifts_of_a_person_by_email_follow_the_spec(contract: Contract) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        operation = contract.check_request(request)
        if request.url.path == "/users":
            body = _users_answer(contract, "bob@example.com")
            contract.validate(body, contract.response_schema(operation, "200"))
            return httpx.Response(200, json=body)
        body = _user_shifts(contract)
        # The schema types `start` and `end` as strings, while their descriptions say null
        # marks a permanent on-call: the others are checked, the permanent one as described.
        permanent = body["oncalls"].pop()  # type: ignore[attr-defined]
        contract.validate(body, contract.response_schema(operation, "200"))
        body["oncalls"].append(permanent)  # type: ignore[attr-defined]
        return httpx.Response(200, json=body)

    shifts = PagerDuty(_client(handler), token=TOKEN).shifts_for(
        email="Bob@Example.com", slack_user_id="U0BOB", since=AT, until=AT + timedelta(days=14)
    )

    assert [r.url.path for r in seen] == ["/users", "/oncalls"]
    assert seen[0].url.params["query"] == "bob@example.com"
    params = seen[1].url.params
    assert params.get_list("user_ids[]") == ["PBOB001"]  # the exact email, not the near one
    assert params["since"] == "2026-11-26T12:00:00Z"
    assert params["until"] == "2026-12-10T12:00:00Z"
    assert "earliest" not in params  # every shift in the window, not one per level
    assert [(s.schedule, s.start) for s in shifts] == [
        ("Engineering Escalation Policy", None),  # permanent: on the policy itself
        ("Payments primary", AT - timedelta(hours=3)),
        ("Payments secondary", AT + timedelta(days=3)),
    ]


def test_someone_pagerduty_does_not_know_has_no_shifts(contract: Contract) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        contract.check_request(request)
        assert request.url.path == "/users", "no on-call lookup without a user"
        return httpx.Response(200, json=_users_answer(contract, "someone.else@example.com"))

    adapter = PagerDuty(_client(handler), token=TOKEN)
    until = AT + timedelta(days=14)
    assert (
        adapter.shifts_for(email="bob@example.com", slack_user_id=None, since=AT, until=until) == []
    )
    assert adapter.shifts_for(email=None, slack_user_id="U0BOB", since=AT, until=until) == []


def test_shifts_when_pagerduty_is_down_are_unavailable_without_the_token() -> None:
    adapter = PagerDuty(_client(lambda _: httpx.Response(503, json={})), token=TOKEN)
    with pytest.raises(ProviderUnavailable) as raised:
        adapter.shifts_for(
            email="bob@example.com", slack_user_id=None, since=AT, until=AT + timedelta(days=1)
        )
    assert TOKEN not in str(raised.value)
