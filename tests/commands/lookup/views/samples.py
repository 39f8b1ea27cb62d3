"""Sample answers for the lookup builders' tests: an entity, its on-call and its card."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from commands.lookup.service.read_model import IndexedEntity
from commands.lookup.service.types import Links, OnCall, Person, ServiceCard, Shift, Team

AT = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def make_entity(name: str = "payments-api", kind: str = "component") -> IndexedEntity:
    return IndexedEntity(
        ref=f"{kind}:default/{name}", kind=kind, namespace="default", name=name,
        title="Payments API", description="Card payments", lifecycle="production",
        type="service", owner="group:default/payments", system="system:default/checkout",
        tags=("pci",), extras=None, email=None, display_name=None,
    )  # fmt: skip


def make_oncall(*, stale: bool = False) -> OnCall:
    return OnCall(
        provider="pagerduty",
        schedule="PEP1",
        current=(Shift(Person("Bob", "U0BOB"), AT - timedelta(hours=1), AT + timedelta(hours=9)),),
        next=(Shift(Person("carol@example.com"), AT + timedelta(hours=9), None),),
        as_of=AT,
        stale=stale,
        problem="GET /oncalls timed out" if stale else None,
    )


def make_card(**changes: object) -> ServiceCard:
    values: dict[str, object] = {
        "entity": make_entity(),
        "owner": Team("group:default/payments", "Payments", "#payments", (Person("Bob", "U0BOB"),)),
        "owner_person": None,
        "system": "Checkout",
        "oncall": make_oncall(),
        "links": Links(runbooks=(("Runbook", "https://runbooks.example/p"),)),
        "catalog_url": "https://backstage.example/catalog/default/component/payments-api",
    }
    values.update(changes)
    return ServiceCard(**values)  # type: ignore[arg-type]


def many_people(
    count: int, name: str = "Maximilian Oberbergmeister-Hohenzollern"
) -> tuple[Person, ...]:
    return tuple(Person(f"{name} {n}") for n in range(count))
