"""The Backstage catalog adapter against the catalog backend's official OpenAPI document."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from integrations.backstage import BackstageCatalog
from integrations.catalog_units import DUPLICATE, KnownUnit
from integrations.errors import ProviderRejected, ProviderUnavailable
from tests.integrations.openapi_contract import Contract, spec_path

BASE = "https://backstage.acme.example/api/catalog"
TOKEN = "static-token-for-tests"


@pytest.fixture(scope="module")
def contract() -> Contract:
    return Contract(spec_path("backstage", "catalog-openapi.json"))


def _client(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.Client:
    return httpx.Client(
        base_url=BASE, transport=httpx.MockTransport(handler), timeout=httpx.Timeout(2.0)
    )


def _component(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}", "etag": "e1"},
        "spec": {"type": "service", "lifecycle": "production", "owner": "payments", **spec},
        "relations": [{"type": "ownedBy", "targetRef": "group:default/payments"}],
    }


def test_pages_through_the_catalog_with_cursors_and_a_bearer_token(contract: Contract) -> None:
    pages = {
        None: {"items": [_component("payments-api")], "totalItems": 3,
               "pageInfo": {"nextCursor": "c2"}},
        "c2": {"items": [_component("orders-api"), _component("search-service")],
               "totalItems": 3, "pageInfo": {}},
    }  # fmt: skip
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        operation = contract.check_request(request, path_prefix="/api/catalog")
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        body = pages[request.url.params.get("cursor")]
        contract.validate(body, contract.response_schema(operation, "200"))
        return httpx.Response(200, json=body)

    snapshot = BackstageCatalog(
        _client(handler), token=TOKEN, filters=["kind=component", "kind=group"], page_size=2
    ).fetch_all()

    assert [e.name for e in snapshot.entities] == ["payments-api", "orders-api", "search-service"]
    assert snapshot.entities[0].relations[0].target_ref == "group:default/payments"
    first, second = seen
    assert first.url.params.get_list("filter") == ["kind=component", "kind=group"]
    # On later pages only the cursor counts; filters are not sent again.
    assert dict(second.url.params) == {"limit": "2", "cursor": "c2"}


def test_an_invalid_entity_is_a_problem_and_the_rest_is_kept(contract: Contract) -> None:
    broken = _component("orders-api")
    del broken["spec"]["owner"]
    body = {"items": [_component("payments-api"), broken], "totalItems": 2, "pageInfo": {}}

    def handler(request: httpx.Request) -> httpx.Response:
        contract.check_request(request, path_prefix="/api/catalog")
        return httpx.Response(200, json=body)

    snapshot = BackstageCatalog(_client(handler), token=None).fetch_all()
    assert [e.name for e in snapshot.entities] == ["payments-api"]
    [problem] = snapshot.problems
    assert problem.source.startswith("Component:default/orders-api")
    assert "spec.owner" in problem.reason


def test_anonymous_access_sends_no_authorization_header(contract: Contract) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert "Authorization" not in request.headers
        return httpx.Response(200, json={"items": [], "totalItems": 0, "pageInfo": {}})

    assert BackstageCatalog(_client(handler), token=None).fetch_all().entities == ()


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (
            httpx.Response(500, json={"error": {"name": "Error", "message": "boom"}}),
            ProviderUnavailable,
        ),
        (
            httpx.Response(
                401, json={"error": {"name": "AuthenticationError", "message": "bad token"}}
            ),
            ProviderRejected,
        ),
        (httpx.Response(200, json={"unexpected": True}), ProviderUnavailable),
    ],
)
def test_failures_are_integration_errors_without_the_token(
    answer: httpx.Response, error: type[Exception]
) -> None:
    with pytest.raises(error) as raised:
        BackstageCatalog(_client(lambda _: answer), token=TOKEN).fetch_all()
    assert TOKEN not in str(raised.value)


def test_a_timeout_is_unavailable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("timed out", request=request)

    with pytest.raises(ProviderUnavailable, match="timed out"):
        BackstageCatalog(_client(handler), token=TOKEN).fetch_all()


def test_kinds_no_built_in_processor_reads_are_problems_and_templates_are_read(
    contract: Contract,
) -> None:
    # A catalog with plugins holds kinds of their own; the bot skips them as Backstage would
    # without those plugins, and reads the scaffolder's templates.
    template = {
        "apiVersion": "scaffolder.backstage.io/v1beta3",
        "kind": "Template",
        "metadata": {"name": "python-service", "namespace": "default", "title": "Python service"},
        "spec": {"type": "service", "owner": "platform", "steps": [{"action": "fetch:plain"}]},
    }
    environment = {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Environment",
        "metadata": {"name": "staging", "namespace": "infra"},
        "spec": {"owner": "platform"},
    }
    body = {"items": [_component("payments-api"), template, environment], "pageInfo": {}}

    def handler(request: httpx.Request) -> httpx.Response:
        contract.check_request(request, path_prefix="/api/catalog")
        return httpx.Response(200, json=body)

    snapshot = BackstageCatalog(_client(handler), token=None).fetch_all()
    assert [e.ref for e in snapshot.entities] == [
        "component:default/payments-api",
        "template:default/python-service",
    ]
    assert [(p.source, p.reason) for p in snapshot.problems] == [
        (
            "Environment:infra/staging",
            "No processor recognized the entity environment:infra/staging as valid, possibly "
            "caused by a foreign kind or apiVersion",
        )
    ]


def test_units_skip_entities_whose_etag_is_known_and_report_a_second_copy() -> None:
    changed = _component("orders-api")
    changed["metadata"]["etag"] = "e2"
    untagged = _component("search-service")
    del untagged["metadata"]["etag"]
    items = [_component("payments-api"), changed, untagged, _component("payments-api")]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"items": items, "pageInfo": {}})

    catalog = BackstageCatalog(_client(handler), token=None)
    first = {unit.key: unit for unit in catalog.fetch_units({})}
    known = {key: KnownUnit(unit.digest) for key, unit in first.items()}
    known["component:default/orders-api"] = KnownUnit("e1")

    units = catalog.fetch_units(known)

    assert [(u.key, u.changed, [e.name for e in u.entities]) for u in units] == [
        ("component:default/payments-api", False, []),
        ("component:default/orders-api", True, ["orders-api"]),
        ("component:default/search-service", False, []),
        ("component:default/payments-api#3", True, []),
    ]
    assert units[1].digest == "e2" and len(units[2].digest) == 64
    assert units[3].notes == {DUPLICATE: True}
    assert [p.reason for p in units[3].problems] == [
        "component:default/payments-api came twice from the catalog; the first one is kept"
    ]
