"""Builders for lookup tests: a catalog of fakes, and the service wired to them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.core.audit import AuditLog
from bot.core.config import TeamConfig
from bot.core.db import SessionFactory
from bot.core.identity import IdentityService
from bot.runtime.config import PlatformConfig
from commands.lookup.service.catalog_index import CatalogIndex
from commands.lookup.service.lookups import LookupService
from commands.lookup.service.oncall import OnCallDirectory
from integrations.catalog_model import parse_entity
from integrations.fakes import FakeCatalog, FakeOnCall, FakeUserDirectory
from integrations.protocols import (
    CatalogEntity,
    DirectoryUser,
    OnCallPerson,
    OnCallShift,
    OnCallStatus,
    OnCallTarget,
)
from tests.clock import Clock

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def entity(
    kind: str, name: str, *, spec: dict[str, Any] | None = None, **meta: Any
) -> CatalogEntity:
    return parse_entity(
        {
            "apiVersion": "backstage.io/v1alpha1",
            "kind": kind,
            "metadata": {"name": name, **meta},
            "spec": spec or {},
        }
    )


def component(name: str, owner: str = "payments", **meta: Any) -> CatalogEntity:
    return entity(
        "Component",
        name,
        spec={"type": "service", "lifecycle": "production", "owner": owner, "system": "checkout"},
        **meta,
    )


def sample_catalog() -> list[CatalogEntity]:
    return [
        component(
            "payments-api",
            title="Payments API",
            description="Card payments and refunds",
            tags=["python", "pci"],
            annotations={
                "pagerduty.com/service-id": "PSVC001",
                "github.com/project-slug": "acme/p",
            },
            links=[{"url": "https://runbooks.example/p", "title": "Runbook", "type": "runbook"}],
        ),
        component("orders-api", description="Orders and order events", tags=["go"]),
        component("search-service", owner="group:default/search", description="Product search"),
        component("orphan-svc", owner="ghosts"),
        entity("System", "checkout", spec={"owner": "payments"}, title="Checkout"),
        entity(
            "Group",
            "payments",
            spec={"type": "team", "children": [], "members": ["carol"]},
            title="Payments",
            annotations={"pagerduty.com/escalation-policy-id": "PEP0001"},
        ),
        entity("Group", "search", spec={"type": "team", "children": []}),
        entity(
            "API",
            "payments",
            spec={
                "type": "openapi",
                "lifecycle": "production",
                "owner": "payments",
                "definition": "x",
            },
        ),
        entity(
            "User", "bob", spec={"memberOf": ["payments"], "profile": {"email": "Bob@Example.com"}}
        ),
        entity("User", "carol", spec={"memberOf": [], "profile": {"email": "carol@example.com"}}),
        entity(
            "User",
            "dave",
            spec={"memberOf": ["search"]},
            annotations={"slack.com/user-id": "U0DAVE"},
        ),
    ]


def pagerduty_status(target: OnCallTarget) -> OnCallStatus:
    return OnCallStatus(
        target=target,
        current=(
            OnCallShift(
                OnCallPerson("Bob", email="bob@example.com"),
                NOW - timedelta(hours=2),
                NOW + timedelta(hours=20),
            ),
        ),
        next=(
            OnCallShift(
                OnCallPerson("Carol", email="carol@example.com"),
                NOW + timedelta(hours=20),
                NOW + timedelta(days=7),
            ),
        ),
        as_of=NOW,
    )


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def directory() -> FakeUserDirectory:
    return FakeUserDirectory(
        [
            DirectoryUser("U0BOB", "bob", "Bob Builder", email="bob@example.com"),
            DirectoryUser("U0CAROL", "carol", "Carol Lead", email="carol@example.com"),
            DirectoryUser("U0DAVE", "dave", "Dave Search", email="dave@example.com"),
        ]
    )


@pytest.fixture
def catalog() -> FakeCatalog:
    return FakeCatalog(sample_catalog())


@pytest.fixture
def oncall() -> FakeOnCall:
    fake = FakeOnCall()
    fake.name = "pagerduty"
    for target in (
        OnCallTarget("service", "PSVC001"),
        OnCallTarget("escalation_policy", "PEP0001"),
    ):
        fake.statuses[(target.kind, target.id)] = pagerduty_status(target)
    return fake


@pytest.fixture
def lookup(
    sessions: SessionFactory,
    catalog: FakeCatalog,
    oncall: FakeOnCall,
    directory: FakeUserDirectory,
    clock: Clock,
) -> LookupService:
    config = PlatformConfig(teams={"search": TeamConfig(channel="#search")})
    service = LookupService(
        index=CatalogIndex(sessions, catalog, clock=clock),
        oncall=OnCallDirectory(oncall, cache_seconds=60, local=False, clock=clock),
        identity=IdentityService(directory, config, sessions),
        audit=AuditLog(sessions),
        team_channels={"search": "#search"},
        ui_url="https://backstage.example/catalog/{namespace}/{kind}/{name}",
        refresh_interval=timedelta(minutes=15),
        reload_check_seconds=0.05,
        clock=clock,
    )
    service.refresh()
    return service
