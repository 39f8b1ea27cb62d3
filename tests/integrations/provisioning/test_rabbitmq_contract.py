"""RabbitMQProvisioner's HTTP contract, on `httpx.MockTransport`: requests and error mapping.

The requests are the ones the management API documents (`GET /api/index.html` on a node
with the plugin, RabbitMQ 3.10); the error bodies are the node's own
(`{"error": ..., "reason": ...}`), as the real-server tests in test_rabbitmq.py see them.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from integrations.errors import IntegrationError, ProviderRejected, ProviderUnavailable
from integrations.provisioning.rabbitmq import MANAGEMENT_TIMEOUT, RabbitMQProvisioner
from integrations.provisioning.rabbitmq_api import REASON_LIMIT, ManagementApi
from integrations.provisioning_protocols import PlanLimits, ResourceSpec
from tests.integrations.provisioning.conftest import ADMIN_SECRET

PASSWORD = "user-Secret-5c4b3a"
SPEC = ResourceSpec(
    "rabbitmq",
    "orders-db",
    PlanLimits(connection_limit=20, max_bytes=4096, max_messages=100, max_age_seconds=60),
)
Handler = Callable[[httpx.Request], httpx.Response]


def _provisioner(handler: Handler, base_url: str = "http://rabbit.internal:15672") -> Any:
    client = httpx.Client(
        transport=httpx.MockTransport(handler), base_url=base_url, timeout=MANAGEMENT_TIMEOUT
    )
    return RabbitMQProvisioner(client, admin_user="guest", admin_password=ADMIN_SECRET)


def _answer(status: int, reason: str | None = None) -> Handler:
    """The node's error shape: `{"error": ..., "reason": REASON}`, or no body."""
    body = None if reason is None else {"error": "some_error", "reason": reason}
    return _json(status, body)


def _json(status: int, body: Any) -> Handler:
    return lambda request: httpx.Response(status, json=body)


def _found_only_at(paths: set[str]) -> Handler:
    return lambda request: httpx.Response(200 if request.url.path in paths else 404, json={})


def _raising(error: type[httpx.RequestError]) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error("boom", request=request)

    return handler


def _sent(request: httpx.Request) -> tuple[str, str, Any]:
    body = json.loads(request.content) if request.content else None
    return request.method, request.url.raw_path.decode(), body


def test_a_provisioning_sends_the_documented_requests_with_the_admin_login() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201 if request.method == "PUT" else 200)

    provisioner = _provisioner(handler)
    provisioner.create_resource(SPEC)
    provisioner.create_user(SPEC, PASSWORD)
    provisioner.grant(SPEC)
    assert [_sent(request) for request in seen] == [
        ("PUT", "/api/vhosts/orders-db", {"description": "managed by platform-bot"}),
        ("PUT", "/api/vhost-limits/orders-db/max-connections", {"value": 20}),
        (
            "PUT",
            "/api/operator-policies/orders-db/platform-limits",
            {
                "pattern": ".*",
                "definition": {"max-length": 100, "max-length-bytes": 4096, "message-ttl": 60000},
                "apply-to": "queues",
                "priority": 0,
            },
        ),
        ("PUT", "/api/users/orders-db", {"password": PASSWORD, "tags": ""}),
        (
            "PUT",
            "/api/permissions/orders-db/orders-db",
            {"configure": ".*", "write": ".*", "read": ".*"},
        ),
    ]
    login = "Basic " + base64.b64encode(f"guest:{ADMIN_SECRET}".encode()).decode()
    assert all(request.headers["authorization"] == login for request in seen)
    assert all(PASSWORD not in str(request.url) for request in seen)


def test_a_plan_without_limits_clears_them_and_missing_ones_are_fine() -> None:
    seen: list[tuple[str, str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(_sent(request))
        return httpx.Response(404 if request.method == "DELETE" else 204)

    _provisioner(handler).create_resource(ResourceSpec("rabbitmq", "orders-db", PlanLimits()))
    assert seen[1:] == [
        ("DELETE", "/api/vhost-limits/orders-db/max-connections", None),
        ("DELETE", "/api/operator-policies/orders-db/platform-limits", None),
    ]


def test_each_path_segment_is_percent_encoded() -> None:
    paths: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.raw_path.decode())
        return httpx.Response(200, json={})

    client = httpx.Client(transport=httpx.MockTransport(handler), base_url="http://rabbit:15672")
    api = ManagementApi(client, admin_user="guest", admin_password="guest")
    api.get("read", "vhosts", "/")
    api.get("read", "permissions", "a/b?c#d", "x y%")
    assert paths == ["/api/vhosts/%2F", "/api/permissions/a%2Fb%3Fc%23d/x%20y%25"]


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (199, ProviderRejected),
        (300, ProviderRejected),
        (301, ProviderRejected),  # redirects are not followed: the admin login stays here
        (400, ProviderRejected),
        (404, ProviderRejected),  # a PUT's target must exist (the vhost, say)
        (428, ProviderRejected),
        (429, ProviderUnavailable),
        (430, ProviderRejected),
        (499, ProviderRejected),
        (500, ProviderUnavailable),
        (503, ProviderUnavailable),
        (599, ProviderUnavailable),
    ],
)
def test_http_errors_map_onto_the_error_tree_without_secrets(
    status: int, error: type[IntegrationError]
) -> None:
    echo = f"password {PASSWORD} and {ADMIN_SECRET} refused"
    with pytest.raises(IntegrationError) as caught:
        _provisioner(_answer(status, echo)).create_user(SPEC, PASSWORD)
    assert type(caught.value) is error
    assert (
        str(caught.value)
        == f"rabbitmq: create user failed: HTTP {status}: password *** and *** refused"
    )


def test_success_is_every_2xx_and_nothing_else() -> None:
    for status in (200, 201, 204, 299):
        _provisioner(_answer(status)).create_user(SPEC, PASSWORD)


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_admin_login_names_the_user_and_what_to_fix(status: int) -> None:
    with pytest.raises(ProviderRejected) as caught:
        _provisioner(_answer(status, "Login failed")).drop(SPEC)
    assert str(caught.value) == (
        f"rabbitmq: drop vhost failed: the management API refused the admin user 'guest' "
        f"(HTTP {status}: Login failed); check admin_user and admin_password"
    )


@pytest.mark.parametrize(
    ("raised", "says"),
    [
        (httpx.ReadTimeout, "the management API at http://rabbit.internal:15672 timed out"),
        (httpx.ConnectTimeout, "the management API at http://rabbit.internal:15672 timed out"),
        (
            httpx.ConnectError,
            "cannot reach the management API at http://rabbit.internal:15672 (ConnectError); "
            "is the rabbitmq_management plugin enabled?",
        ),
        (httpx.RemoteProtocolError, "(RemoteProtocolError)"),
    ],
)
def test_timeouts_and_transport_errors_are_unavailable(
    raised: type[httpx.RequestError], says: str
) -> None:
    with pytest.raises(ProviderUnavailable) as caught:
        _provisioner(_raising(raised)).create_user(SPEC, PASSWORD)
    assert says in str(caught.value)
    assert str(caught.value).startswith("rabbitmq: create user failed: ")


def test_the_address_in_messages_has_no_user_info_and_brackets_ipv6() -> None:
    for base_url, shown in [
        ("http://admin:url-secret@rabbit.internal:15672/prefix", "http://rabbit.internal:15672"),
        ("https://[fd00::1]:15671", "https://[fd00::1]:15671"),
        ("https://rabbit.internal", "https://rabbit.internal"),
    ]:
        with pytest.raises(ProviderUnavailable) as caught:
            _provisioner(_raising(httpx.ConnectError), base_url).check()
        assert f"management API at {shown} (ConnectError)" in str(caught.value)
        assert "url-secret" not in str(caught.value)


def test_the_reason_is_scrubbed_before_it_is_cut_and_kept_on_one_line() -> None:
    # The password straddles the cut: cutting first would leave its first characters.
    reason = "x" * (REASON_LIMIT - 5) + PASSWORD
    with pytest.raises(ProviderRejected) as caught:
        _provisioner(_answer(400, reason)).create_user(SPEC, PASSWORD)
    assert str(caught.value).endswith(": " + "x" * (REASON_LIMIT - 5) + "***")
    assert PASSWORD[:5] not in str(caught.value).split("HTTP 400")[1]

    for reason, shown in [
        (
            "Validation failed\n\n-10 is not a valid maximum length\n",
            "Validation failed -10 is not a valid maximum length",
        ),
        ("y" * REASON_LIMIT, "y" * REASON_LIMIT),
        ("z" * (REASON_LIMIT + 1), "z" * REASON_LIMIT),
    ]:
        with pytest.raises(ProviderRejected) as caught:
            _provisioner(_answer(400, reason)).grant(SPEC)
        assert str(caught.value) == f"rabbitmq: grant failed: HTTP 400: {shown}"


@pytest.mark.parametrize(
    "body", [None, {"error": "x"}, {"reason": ""}, {"reason": 7}, ["x"], "text"]
)
def test_an_error_without_a_usable_reason_gives_the_status_alone(body: Any) -> None:
    with pytest.raises(ProviderRejected) as caught:
        _provisioner(_json(400, body)).grant(SPEC)
    assert str(caught.value) == "rabbitmq: grant failed: HTTP 400"


def test_exists_reads_the_vhost_then_the_user_and_404_means_free() -> None:
    assert _provisioner(_found_only_at(set())).exists(SPEC) is False
    assert _provisioner(_found_only_at({"/api/vhosts/orders-db"})).exists(SPEC) is True
    assert _provisioner(_found_only_at({"/api/users/orders-db"})).exists(SPEC) is True
    with pytest.raises(ProviderUnavailable):
        _provisioner(_answer(500)).exists(SPEC)


def test_drop_of_what_is_already_gone_passes_but_a_failing_drop_does_not() -> None:
    _provisioner(_answer(404, "Not Found")).drop(SPEC)
    with pytest.raises(ProviderUnavailable, match="drop vhost failed: HTTP 500"):
        _provisioner(_answer(500)).drop(SPEC)


@pytest.mark.parametrize(
    ("whoami", "passes"),
    [
        ({"name": "guest", "tags": ["administrator"]}, True),
        ({"name": "ops", "tags": ["monitoring", "administrator"]}, True),
        ({"name": "old", "tags": "administrator,monitoring"}, True),  # nodes before 3.9
        ({"name": "ops", "tags": ["management", "policymaker"]}, False),
        ({"name": "ops", "tags": "administrators"}, False),
        ({"name": "ops", "tags": []}, False),
        ({"name": "ops", "tags": None}, False),
        ({"name": "ops"}, False),
        ([], False),
    ],
)
def test_check_wants_an_administrator(whoami: Any, passes: bool) -> None:
    provisioner = _provisioner(_json(200, whoami))
    if passes:
        provisioner.check()
        return
    with pytest.raises(ProviderRejected, match="lacks the 'administrator' tag"):
        provisioner.check()


def test_check_on_an_address_that_is_no_management_api_says_so() -> None:
    with pytest.raises(
        ProviderRejected, match=r"has no management API under /api .*management_url"
    ):
        _provisioner(_answer(404)).check()
    with pytest.raises(ProviderRejected, match="something other than JSON"):
        _provisioner(lambda request: httpx.Response(200, text="<html>welcome</html>")).check()
