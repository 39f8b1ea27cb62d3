"""The catalog index on SQLite and PostgreSQL: references resolved as Backstage resolves them,
entities that do not fit the index skipped and reported, and every failed refresh recorded."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select, text

from bot.core.db import SessionFactory
from bot.core.errors import Unavailable
from commands.lookup.models import CatalogEntityRow, CatalogRefreshRow, CatalogRelationRow
from commands.lookup.service.catalog_index import FAILED, SUCCEEDED, CatalogIndex
from commands.lookup.service.lookups import LookupService
from integrations.fakes import FakeCatalog
from integrations.protocols import CatalogEntity
from tests.clock import Clock
from tests.commands.lookup.conftest import component, entity

ML = {"namespace": "ml-platform"}


def _two_namespaces() -> list[CatalogEntity]:
    """Two teams called `payments`: the storefront's in `default`, the ML one in `ml-platform`."""
    return [
        entity("Group", "payments", spec={"type": "team", "children": []}, title="Payments"),
        entity("User", "bob", spec={"memberOf": ["payments"]}),
        entity(
            "Group",
            "payments",
            spec={"type": "team", "children": ["payments-oncall"], "members": ["frank"]},
            title="ML Payments",
            **ML,
        ),
        entity(
            "Group",
            "payments-oncall",
            spec={"type": "team", "children": [], "parent": "payments"},
            **ML,
        ),
        entity("User", "erin", spec={"memberOf": ["payments"]}, **ML),
        entity("User", "frank", spec={"memberOf": []}, **ML),
        entity("System", "features", spec={"owner": "payments"}, title="Feature platform", **ML),
        entity("System", "features", spec={"owner": "payments"}, title="Storefront features"),
        entity(
            "Component",
            "feature-store",
            spec={
                "type": "service",
                "lifecycle": "production",
                "owner": "payments",
                "system": "features",
                "dependsOn": ["resource:feature-db"],
            },
            **ML,
        ),
    ]


def _relations(sessions: SessionFactory) -> set[tuple[str, str, str]]:
    with sessions() as session:
        rows = session.execute(
            select(
                CatalogRelationRow.source_ref,
                CatalogRelationRow.type,
                CatalogRelationRow.target_ref,
            )
        )
        return {(s, t, d) for s, t, d in rows}


def test_references_resolve_in_the_namespace_of_the_entity_that_wrote_them(
    lookup: LookupService, catalog: FakeCatalog, sessions: SessionFactory
) -> None:
    catalog.entities = _two_namespaces()
    lookup.refresh()

    answer = lookup.owner("feature-store")
    assert answer.owner is not None and answer.owner.ref == "group:ml-platform/payments"
    assert answer.owner.label == "ML Payments"
    # erin by her memberOf, frank by the group's members; bob is in the other payments team.
    assert sorted(p.name for p in answer.owner.members) == ["erin", "frank"]
    assert lookup.service_card("feature-store").system == "Feature platform"
    relations = _relations(sessions)
    assert {
        ("component:ml-platform/feature-store", "ownedBy", "group:ml-platform/payments"),
        ("component:ml-platform/feature-store", "partOf", "system:ml-platform/features"),
        ("component:ml-platform/feature-store", "dependsOn", "resource:ml-platform/feature-db"),
        ("resource:ml-platform/feature-db", "dependencyOf", "component:ml-platform/feature-store"),
        ("group:ml-platform/payments", "parentOf", "group:ml-platform/payments-oncall"),
        ("group:ml-platform/payments-oncall", "childOf", "group:ml-platform/payments"),
        ("group:ml-platform/payments", "hasMember", "user:ml-platform/frank"),
        ("user:ml-platform/erin", "memberOf", "group:ml-platform/payments"),
        ("system:ml-platform/features", "ownedBy", "group:ml-platform/payments"),
        ("user:default/bob", "memberOf", "group:default/payments"),
    } <= relations
    assert not any("ml-platform" in s and "default" in d for s, _, d in relations)


@pytest.mark.parametrize(
    ("owner", "skipped"),
    [
        # kind (5) + ':' + namespace (7) + '/' + name: 286 characters make a 300-long reference.
        ("group:default/" + "x" * 286, False),
        ("group:default/" + "x" * 287, True),
        ("x" * 400, True),
    ],
)
def test_an_entity_whose_references_overflow_the_index_is_skipped_and_reported(
    lookup: LookupService, catalog: FakeCatalog, sessions: SessionFactory, owner: str, skipped: bool
) -> None:
    catalog.entities.append(component("generated-api", owner=owner))
    outcome = lookup.refresh()

    reasons = [p.reason for p in outcome.problems if p.source == "component:default/generated-api"]
    if skipped:
        assert reasons == [
            f"spec.owner: the reference is {len(owner) if ':' in owner else len(owner) + 14:,} "
            "characters long; references in the index can be at most 300"
        ]
        assert "generated-api" not in [h.entity.name for h in lookup.search("generated").hits]
    else:
        assert reasons == []
        assert lookup.owner("generated-api").owner is not None
    assert lookup.owner("payments-api").owner is not None  # the rest of the catalog is indexed
    with sessions() as session:
        last = session.scalars(select(CatalogRefreshRow).order_by(CatalogRefreshRow.id.desc()))
        assert last.first().status == SUCCEEDED  # type: ignore[union-attr]


def test_a_catalog_answering_one_entity_twice_keeps_the_first(
    lookup: LookupService, catalog: FakeCatalog
) -> None:
    # A Backstage catalog that changes while it is paged can hand out an entity twice.
    catalog.entities += [component("ledger", description="first"), component("ledger")]
    outcome = lookup.refresh()
    assert lookup.service_card("ledger").entity.description == "first"
    assert [p.reason for p in outcome.problems] == [
        "component:default/ledger came twice from the catalog; the first one is kept"
    ]


_REFUSE_ON_POSTGRES = (
    """CREATE OR REPLACE FUNCTION refuse_exploding() RETURNS trigger AS $$
    BEGIN IF NEW.name = 'exploding' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END
    $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER refuse_exploding BEFORE INSERT ON catalog_entity
    FOR EACH ROW EXECUTE FUNCTION refuse_exploding()""",
)
_REFUSE_ON_SQLITE = (
    """CREATE TRIGGER refuse_exploding BEFORE INSERT ON catalog_entity
    WHEN NEW.name = 'exploding' BEGIN SELECT RAISE(ABORT, 'refused'); END""",
)


def test_a_refresh_the_database_refuses_leaves_a_failed_record_and_the_last_index(
    engine: Engine, sessions: SessionFactory, clock: Clock
) -> None:
    catalog = FakeCatalog([component("payments-api")])
    index = CatalogIndex(sessions, catalog, clock=clock)
    good = index.refresh().generation
    with engine.begin() as connection:
        refuse = _REFUSE_ON_POSTGRES if engine.dialect.name == "postgresql" else _REFUSE_ON_SQLITE
        for statement in refuse:
            connection.execute(text(statement))
    catalog.entities.append(component("exploding"))

    with pytest.raises(Unavailable, match="could not be written"):
        index.refresh()

    last = index.last_refresh()
    assert last is not None and last.status == FAILED
    assert last.error == "the index could not be written (the database refused it)"
    assert index.generation() == good
    with sessions() as session:
        assert session.scalars(select(CatalogEntityRow.name)).all() == ["payments-api"]
