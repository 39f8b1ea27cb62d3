"""Incremental catalog refreshes on SQLite and PostgreSQL: only changed catalog files are
parsed and rewritten, and the index and read model come out as a full refresh makes them."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from bot.core.audit import AuditLog
from bot.core.db import SessionFactory
from bot.core.identity import IdentityService
from bot.runtime.config import PlatformConfig
from commands.lookup.models import CatalogEntityRow, CatalogRelationRow
from commands.lookup.service import index_writer
from commands.lookup.service.catalog_index import FAILED, CatalogIndex
from commands.lookup.service.lookups import LookupService
from commands.lookup.service.oncall import OnCallDirectory
from commands.lookup.service.read_model import ReadModel
from commands.lookup.views.refresh import build_refresh_result
from integrations.catalog_files import CatalogFiles
from integrations.fakes import FakeOnCall, FakeUserDirectory
from tests.clock import Clock
from tests.commands.lookup.conftest import NOW

QUERIES = ("payments", "orders api", "paymnts", "team", "ledger", "prod", "zzz")


def _doc(kind: str, name: str, spec: dict[str, Any], **meta: Any) -> dict[str, Any]:
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": kind,
        "metadata": {"name": name, **meta},
        "spec": spec,
    }


def _component(name: str, owner: str, **meta: Any) -> dict[str, Any]:
    spec = {"type": "service", "lifecycle": "production", "owner": owner, "system": "shop"}
    return _doc("Component", name, spec, **meta)


def _team(name: str, members: list[str] | None = None, **meta: Any) -> dict[str, Any]:
    return _doc("Group", name, {"type": "team", "children": [], "members": members or []}, **meta)


def _user(name: str, *teams: str) -> dict[str, Any]:
    profile = {"email": f"{name}@example.com"}
    return _doc("User", name, {"memberOf": list(teams), "profile": profile})


def _write(root: Path, name: str, *docs: dict[str, Any]) -> None:
    path = root / name / "catalog-info.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump_all(docs))


def _start(root: Path) -> None:
    _write(root, "teams", _team("payments", title="Payments"), _team("orders", ["carol"]))
    _write(root, "people", _user("bob", "payments"), _user("carol"), _user("dave", "orders"))
    _write(
        root,
        "payments",
        _component("payments-api", "payments", title="Payments API", tags=["pci"]),
        _component("ledger", "payments", description="The payments ledger"),
        _doc("System", "shop", {"owner": "orders"}),
    )
    _write(root, "orders", _component("orders-api", "orders", title="Orders API"))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "catalog"
    _start(path)
    return path


@pytest.fixture
def index(sessions: SessionFactory, root: Path, clock: Clock) -> CatalogIndex:
    return CatalogIndex(sessions, CatalogFiles(root), clock=clock)


def _service(sessions: SessionFactory, index: CatalogIndex, clock: Clock) -> LookupService:
    return LookupService(
        index=index,
        oncall=OnCallDirectory(FakeOnCall(), cache_seconds=60, local=False, clock=clock),
        identity=IdentityService(FakeUserDirectory([]), PlatformConfig(), sessions),
        audit=AuditLog(sessions),
        team_channels={},
        ui_url=None,
        refresh_interval=timedelta(minutes=15),
        reload_check_seconds=60,
        clock=clock,
    )


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def lookup(sessions: SessionFactory, index: CatalogIndex, clock: Clock) -> LookupService:
    service = _service(sessions, index, clock)
    service.refresh()
    return service


def _same(incremental: ReadModel, full: ReadModel) -> None:
    assert list(incremental.entities.items()) == list(full.entities.items())
    assert incremental.by_name == full.by_name
    assert incremental.by_title == full.by_title
    assert incremental.members == full.members
    assert incremental.problems == full.problems
    for query in QUERIES:
        assert incremental.search.search(query, limit=50) == full.search.search(query, limit=50)


def _rows(sessions: SessionFactory) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    with sessions() as session:
        entities = session.execute(
            select(
                CatalogEntityRow.ref,
                CatalogEntityRow.title,
                CatalogEntityRow.document,
                CatalogEntityRow.source,
                CatalogEntityRow.unit,
            ).order_by(CatalogEntityRow.ref)
        )
        relations = session.execute(
            select(
                CatalogRelationRow.source_ref,
                CatalogRelationRow.type,
                CatalogRelationRow.target_ref,
                CatalogRelationRow.producer,
            ).order_by(
                CatalogRelationRow.source_ref,
                CatalogRelationRow.type,
                CatalogRelationRow.target_ref,
                CatalogRelationRow.producer,
            )
        )
        return [tuple(r) for r in entities], [tuple(r) for r in relations]


def test_a_changed_an_added_and_a_removed_entity_are_each_seen_after_an_incremental_refresh(
    lookup: LookupService, root: Path, sessions: SessionFactory, index: CatalogIndex, clock: Clock
) -> None:
    _write(
        root,
        "payments",
        _component("payments-api", "orders", title="Payments API v2"),
        _component("wallet", "payments", description="Stored cards"),
        _doc("System", "shop", {"owner": "orders"}),
    )

    outcome = lookup.refresh()

    assert not outcome.full
    assert outcome.changed_refs == {
        "component:default/payments-api",
        "component:default/wallet",
        "system:default/shop",
    }
    assert outcome.removed_refs == {"component:default/ledger"}
    assert outcome.entity_count == 9
    changed = lookup.owner("payments-api")
    assert changed.owner is not None and changed.owner.ref == "group:default/orders"
    assert changed.entity.title == "Payments API v2"
    assert [h.entity.name for h in lookup.search("stored cards").hits] == ["wallet"]
    assert lookup.search("ledger").hits == []
    assert lookup.model().named("ledger") == ()
    # Another process sees the new generation and reads it whole.
    replica = _service(sessions, index, clock)
    replica.reload()
    _same(replica.model(), lookup.model())


def test_an_unchanged_catalog_rewrites_nothing(lookup: LookupService) -> None:
    before = lookup.generation

    outcome = lookup.refresh()

    assert not outcome.full
    assert outcome.changed_refs == outcome.removed_refs == frozenset()
    assert outcome.generation == (before or 0) + 1 and outcome.entity_count == 9


def test_a_removed_team_leaves_its_components_without_an_owner_and_its_users_without_it(
    lookup: LookupService, root: Path
) -> None:
    _write(root, "teams", _team("orders", ["carol"]))

    outcome = lookup.refresh()

    assert not outcome.full and outcome.removed_refs == {"group:default/payments"}
    owner = lookup.owner("ledger")
    assert owner.owner is not None and not owner.owner.in_catalog
    # bob's memberOf still states the relation: the index keeps it, as a full refresh does.
    assert lookup.model().members == {
        "group:default/orders": ("user:default/carol", "user:default/dave"),
        "group:default/payments": ("user:default/bob",),
    }


def test_a_relation_both_ends_state_survives_a_change_to_one_end(
    lookup: LookupService, root: Path
) -> None:
    # dave's memberOf and the team's members both say dave is in orders.
    _write(root, "teams", _team("payments", title="Payments"), _team("orders", ["carol", "dave"]))
    lookup.refresh()
    _write(root, "people", _user("bob", "payments"), _user("carol"), _user("dave"))

    lookup.refresh()

    orders = lookup.owner("orders-api").owner
    assert orders is not None
    assert [p.name for p in orders.members] == ["carol", "dave"]


def test_a_removed_file_is_noticed_by_an_incremental_and_by_a_full_refresh(
    lookup: LookupService, root: Path, sessions: SessionFactory
) -> None:
    (root / "orders" / "catalog-info.yaml").unlink()

    outcome = lookup.refresh()
    rows = _rows(sessions)
    full = lookup.refresh(full=True)

    assert outcome.removed_refs == {"component:default/orders-api"} and full.full
    assert _rows(sessions) == rows
    assert lookup.search("orders api").hits[0].entity.name != "orders-api"


def test_incremental_refreshes_equal_a_full_refresh_of_the_same_files(
    lookup: LookupService, index: CatalogIndex, root: Path, sessions: SessionFactory
) -> None:
    _write(root, "orders", _component("orders-api", "payments", tags=["go"]), _team("ledger"))
    lookup.refresh()
    _write(root, "new", _component("payments-gateway", "orders", description="Card ledger"))
    _write(root, "people", _user("bob", "orders"), _user("carol", "payments"))
    (root / "payments" / "catalog-info.yaml").write_text("kind: [broken\n")
    assert not lookup.refresh().full
    incremental, rows = lookup.model(), _rows(sessions)

    full = lookup.refresh(full=True)

    assert full.full and _rows(sessions) == rows
    _same(incremental, index.load())
    assert [p.source for p in incremental.problems] == ["payments/catalog-info.yaml"]


def test_a_refresh_that_fails_midway_leaves_the_last_good_generation(
    lookup: LookupService, index: CatalogIndex, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = lookup.generation
    before = lookup.model()
    _write(root, "orders", _component("orders-api", "payments", title="Changed"))
    (root / "payments" / "catalog-info.yaml").unlink()

    def crash(*_args: object) -> None:
        raise RuntimeError("the process died here")

    monkeypatch.setattr(index_writer, "_insert", crash)
    with pytest.raises(RuntimeError):
        lookup.refresh()

    last = index.last_refresh()
    assert last is not None and last.status == FAILED
    assert index.generation() == good and lookup.model() is before
    _same(index.load(), before)
    monkeypatch.undo()
    outcome = lookup.refresh()
    assert not outcome.full
    assert lookup.owner("orders-api").entity.title == "Changed"
    assert lookup.model().named("ledger") == ()


def test_an_entity_moved_between_files_or_repeated_makes_the_refresh_full(
    lookup: LookupService, root: Path
) -> None:
    _write(root, "orders", _component("orders-api", "orders"), _component("ledger", "orders"))

    outcome = lookup.refresh()

    assert outcome.full
    assert [p.reason for p in outcome.problems] == [
        "component:default/ledger is already defined in orders/catalog-info.yaml#2"
    ]
    owner = lookup.owner("ledger").owner
    assert owner is not None and owner.ref == "group:default/orders"
    # While the catalog repeats an entity, which copy wins depends on every file: still full.
    assert lookup.refresh().full
    _write(root, "orders", _component("orders-api", "orders"))
    assert lookup.refresh().full
    assert not lookup.refresh().full
    owner = lookup.owner("ledger").owner
    assert owner is not None and owner.ref == "group:default/payments"


def test_a_file_with_a_location_is_read_every_time_so_new_targets_are_found(
    sessions: SessionFactory, tmp_path: Path, clock: Clock
) -> None:
    root = tmp_path / "catalog"
    _start(root)
    location = _doc("Location", "more", {"targets": ["../extra/*.yaml"]})
    _write(root, "where", location)
    extra = tmp_path / "catalog" / "extra"
    extra.mkdir()
    provider = CatalogFiles(root, globs=["*/catalog-info.yaml"])
    service = _service(sessions, CatalogIndex(sessions, provider, clock=clock), clock)
    service.refresh()
    (extra / "billing.yaml").write_text(yaml.safe_dump(_component("billing", "orders")))

    outcome = service.refresh()

    # The file with the Location is written again too (its targets' problems may change).
    assert not outcome.full
    assert outcome.changed_refs == {"component:default/billing", "location:default/more"}
    owner = service.owner("billing").owner
    assert owner is not None and owner.ref == "group:default/orders"


def test_a_refresh_overtaken_by_another_process_compares_against_what_that_one_wrote(
    lookup: LookupService,
    index: CatalogIndex,
    root: Path,
    sessions: SessionFactory,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    other = CatalogIndex(sessions, CatalogFiles(root), clock=clock)
    _write(root, "orders", _component("orders-api", "payments", title="Changed"))
    read_units = index._units

    def overtaken(known: Any) -> Any:
        monkeypatch.setattr(index, "_units", read_units)
        assert not other.refresh().full  # the other replica writes the change first
        _write(root, "people", _user("bob"), _user("carol"), _user("dave", "orders"))
        return read_units(known)

    monkeypatch.setattr(index, "_units", overtaken)
    outcome = lookup.refresh()

    assert not outcome.full
    assert outcome.changed_refs == {"user:default/bob", "user:default/carol", "user:default/dave"}
    assert lookup.owner("orders-api").entity.title == "Changed"
    assert "group:default/payments" not in lookup.model().members


def test_the_report_counts_every_skipped_entry_beyond_those_kept(
    lookup: LookupService, root: Path
) -> None:
    broken = [_doc("Component", f"bad-{n}", {}, annotations="not a mapping") for n in range(201)]
    _write(root, "broken", *broken)

    outcome = lookup.refresh()

    assert len(outcome.problems) == index_writer.PROBLEMS_KEPT and outcome.problem_count == 201
    _text, blocks = build_refresh_result(outcome)
    assert "201 entries were skipped" in str(blocks)


def test_other_processes_read_only_the_rows_an_incremental_refresh_changed(
    lookup: LookupService, index: CatalogIndex, root: Path
) -> None:
    replica = index.load()
    _write(root, "orders", _component("orders-api", "payments", title="Changed"))
    lookup.refresh()

    newer = index.load_newer(replica)

    _same(newer, index.load())
    # Unchanged entities are the replica's own objects: nothing but the change was read.
    assert (
        newer.entities["component:default/ledger"] is replica.entities["component:default/ledger"]
    )
    assert newer.entities["component:default/orders-api"].title == "Changed"
    lookup.refresh(full=True)
    after_full = index.load_newer(newer)
    assert (
        after_full.entities["component:default/ledger"]
        is not newer.entities["component:default/ledger"]
    )
    _same(after_full, newer)
