"""LookupService on fakes, with the index on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.core.audit import AuditRecord
from bot.core.db import SessionFactory
from bot.core.errors import InvalidInput, NotFound, Unavailable
from bot.core.identity import Principal
from commands.lookup.models import CatalogRelationRow
from commands.lookup.service.catalog_index import CatalogIndex
from commands.lookup.service.lookups import LookupService
from commands.lookup.service.types import Ambiguous
from integrations.fakes import FakeCatalog, FakeOnCall, FakeUserDirectory
from integrations.protocols import CatalogProblem
from tests.clock import Clock
from tests.commands.lookup.conftest import NOW, component
from tests.hostile import HOSTILE_TEXT


def _principal(user_id: str = "U0CAROL", email: str = "carol@example.com") -> Principal:
    empty: frozenset[str] = frozenset()
    return Principal(user_id, "Carol Lead", email, "Europe/London", False, False, False,
                     empty, empty, empty, empty)  # fmt: skip


def test_owner_resolves_the_team_its_channel_and_members_by_email_and_annotation(
    lookup: LookupService,
) -> None:
    answer = lookup.owner("payments-api")
    assert answer.entity.ref == "component:default/payments-api"
    assert answer.owner is not None and answer.owner.label == "Payments"
    # bob is a member through his memberOf, carol through the group's spec.members.
    assert [(p.name, p.slack_user_id) for p in answer.owner.members] == [
        ("bob", "U0BOB"),
        ("carol", "U0CAROL"),
    ]
    search = lookup.owner("search-service").owner
    assert search is not None and search.channel == "#search"  # from the platform config
    assert [p.slack_user_id for p in search.members] == ["U0DAVE"]  # slack.com/user-id


def test_a_title_or_a_full_reference_finds_the_entity(lookup: LookupService) -> None:
    assert lookup.owner("Payments API").entity.name == "payments-api"
    assert lookup.owner("component:default/payments-api").entity.name == "payments-api"
    assert lookup.owner("default/orders-api").entity.name == "orders-api"


def test_titles_with_a_slash_are_titles_unless_they_are_references(
    lookup: LookupService, catalog: FakeCatalog
) -> None:
    # Monorepo packages are titled after their npm names; one title looks like `namespace/name`.
    catalog.entities += [
        component("backstage-catalog-model", title="@backstage/catalog-model", owner="search"),
        component("docs-site", title="platform/docs-site", owner="search"),
        component("release-notes", title="Release: notes 2026", owner="search"),
    ]
    lookup.refresh()
    assert lookup.owner("@backstage/catalog-model").entity.name == "backstage-catalog-model"
    assert lookup.owner("@Backstage/Catalog-Model").entity.name == "backstage-catalog-model"
    assert lookup.owner("platform/docs-site").entity.name == "docs-site"
    assert lookup.owner("Release: notes 2026").entity.name == "release-notes"
    assert lookup.owner("component:payments-api").entity.name == "payments-api"
    assert lookup.owner("Component:Default/Payments-API").entity.name == "payments-api"
    with pytest.raises(NotFound, match="There is no `component:default/nope` in the catalog"):
        lookup.owner("component:default/nope")
    with pytest.raises(NotFound, match="I found nothing called `@backstage/nope`"):
        lookup.owner("@backstage/nope")


def test_the_owner_of_a_team_is_the_team_itself_with_its_channel_and_members(
    lookup: LookupService,
) -> None:
    answer = lookup.owner("search")
    assert answer.entity.ref == "group:default/search" and answer.owner_person is None
    assert answer.owner is not None and answer.owner.ref == "group:default/search"
    assert answer.owner.channel == "#search"
    assert [p.slack_user_id for p in answer.owner.members] == ["U0DAVE"]


def test_an_owner_missing_from_the_catalog_is_named_not_resolved(lookup: LookupService) -> None:
    owner = lookup.owner("orphan-svc").owner
    assert owner is not None and owner.label == "ghosts" and not owner.in_catalog


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "Give a name"),
        ("   ", "Give a name"),
        ("x" * 5000, "5,000 characters long; the limit is 200"),
        ("payments-api; DROP TABLE", "letters, digits"),
    ],
)
def test_bad_names_get_a_clear_answer(lookup: LookupService, query: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        lookup.owner(query)


def test_an_unknown_name_suggests_close_ones(lookup: LookupService) -> None:
    with pytest.raises(NotFound) as raised:
        lookup.owner("paymnts-api")
    assert "payments-api" in raised.value.suggestions


def test_a_name_shared_by_several_entities_is_ambiguous(lookup: LookupService) -> None:
    # `payments` is a group and an API; the service lookup prefers services and APIs.
    assert lookup.owner("payments").entity.kind == "api"
    with pytest.raises(Ambiguous) as raised:
        lookup.oncall("payments")
    assert [c.kind for c in raised.value.candidates] == ["api", "group"]


def test_oncall_uses_the_service_annotation_then_the_owning_team(
    lookup: LookupService, oncall: FakeOnCall
) -> None:
    result = lookup.oncall("payments-api")
    assert result.oncall is not None
    assert [s.person.slack_user_id for s in result.oncall.current] == ["U0BOB"]
    assert [s.person.slack_user_id for s in result.oncall.next] == ["U0CAROL"]
    assert result.oncall.current[0].end == NOW + timedelta(hours=20)
    assert lookup.oncall("orders-api").oncall.schedule == "PEP0001"  # type: ignore[union-attr]
    assert not lookup.oncall("search-service").oncall.configured  # type: ignore[union-attr]


def test_oncall_is_cached_briefly(lookup: LookupService, oncall: FakeOnCall, clock: Clock) -> None:
    lookup.oncall("payments-api")
    lookup.oncall("payments-api")
    assert oncall.calls["on_call"] == 1
    clock.now += timedelta(seconds=61)
    lookup.oncall("payments-api")
    assert oncall.calls["on_call"] == 2


def test_a_remote_provider_not_in_cache_is_asked_after_the_ack(
    lookup: LookupService, oncall: FakeOnCall
) -> None:
    result = lookup.service_card("payments-api", fetch=False)
    assert result.pending and result.oncall is None and oncall.calls["on_call"] == 0


def test_when_the_provider_is_down_the_last_answer_is_served_marked_stale(
    lookup: LookupService, oncall: FakeOnCall, clock: Clock
) -> None:
    lookup.oncall("payments-api")
    oncall.available = False
    clock.now += timedelta(minutes=5)
    answer = lookup.oncall("payments-api").oncall
    assert answer is not None and answer.stale and answer.as_of == NOW
    assert "down" in (answer.problem or "")
    with pytest.raises(Unavailable, match="no earlier answer"):
        lookup.oncall("orders-api")


def test_the_service_card_has_owner_oncall_links_and_catalog_link(lookup: LookupService) -> None:
    card = lookup.service_card("payments-api")
    assert card.owner is not None and card.owner.label == "Payments"
    assert card.system == "Checkout"
    assert card.links.repository == (("acme/p", "https://github.com/acme/p"),)
    assert card.links.runbooks == (("Runbook", "https://runbooks.example/p"),)
    assert card.catalog_url == "https://backstage.example/catalog/default/component/payments-api"
    assert card.oncall is not None and card.oncall.current


def test_search_ranks_names_over_descriptions_and_tolerates_typos(lookup: LookupService) -> None:
    names = [h.entity.name for h in lookup.search("payments").hits]
    assert names[0] == "payments" and "payments-api" in names[:3]
    assert next(h.entity.name for h in lookup.search("serch").hits) in ("search", "search-service")
    assert [h.entity.name for h in lookup.search("refunds").hits] == ["payments-api"]
    assert lookup.search("zzzzqqq").hits == []
    assert len(lookup.search("a b c d e f g h i j k").hits) <= 10


def test_refresh_writes_relations_and_keeps_problems(
    lookup: LookupService, catalog: FakeCatalog, sessions: SessionFactory
) -> None:
    catalog.problems = [CatalogProblem("teams/bad.yaml", "spec.owner: required")]
    catalog.entities.append(component("billing-api"))
    outcome = lookup.refresh()
    assert outcome.entity_count == 12 and outcome.problems == tuple(catalog.problems)
    assert lookup.owner("billing-api").entity.name == "billing-api"
    assert lookup.model().problems == tuple(catalog.problems)
    with sessions() as session:
        owned = session.scalar(
            select(func.count()).where(
                CatalogRelationRow.type == "ownedBy",
                CatalogRelationRow.target_ref == "group:default/payments",
            )
        )
    assert owned == 5  # payments-api, orders-api, billing-api, the checkout system, the API


def test_a_failed_refresh_keeps_the_last_index(lookup: LookupService, catalog: FakeCatalog) -> None:
    generation = lookup.generation
    catalog.available = False
    with pytest.raises(Unavailable, match="Lookups keep using the index from"):
        lookup.refresh()
    assert lookup.generation == generation
    assert lookup.owner("payments-api").owner is not None


def test_another_process_refresh_is_picked_up_by_the_background_loader(
    lookup: LookupService, sessions: SessionFactory, catalog: FakeCatalog, clock: Clock
) -> None:
    catalog.entities.append(component("ledger"))
    other = CatalogIndex(sessions, catalog, clock=clock)
    other.refresh()
    lookup.start()
    try:
        assert lookup.ready.wait(5)
        for _ in range(100):
            if lookup.generation == other.generation():
                break
            time.sleep(0.05)
        assert lookup.owner("ledger").entity.name == "ledger"
    finally:
        lookup.stop()


def test_paging_goes_through_the_provider_once_per_key_and_is_audited(
    lookup: LookupService, oncall: FakeOnCall, sessions: SessionFactory
) -> None:
    for _ in range(2):
        outcome = lookup.page(
            ref="component:default/payments-api",
            reason="  checkout is failing ",
            requester=_principal(),
            dedup_key="page-1",
        )
    assert list(oncall.pages) == ["page-1"]
    assert oncall.pages["page-1"].details == "checkout is failing"
    assert outcome.provider == "pagerduty"
    with sessions() as session:
        actions = session.scalars(select(AuditRecord.action)).all()
    assert actions.count("oncall.page") == 2


@pytest.mark.parametrize(("length", "accepted"), [(2, False), (3, True), (500, True), (501, False)])
def test_a_page_reason_reaches_the_on_call_tool_as_typed_and_bounded(
    lookup: LookupService, oncall: FakeOnCall, length: int, accepted: bool
) -> None:
    # PagerDuty and Opsgenie read no mrkdwn: the reason goes as typed, never escaped.
    reason = (HOSTILE_TEXT * 10)[:length]
    page = lambda: lookup.page(  # noqa: E731
        ref="component:default/payments-api", reason=reason, requester=_principal(), dedup_key="k"
    )
    if accepted:
        page()
        assert oncall.pages["k"].details == reason
    else:
        with pytest.raises(InvalidInput, match=r"why you are paging|under 500 characters"):
            page()
        assert oncall.pages == {}


def test_paging_needs_a_reason_and_a_schedule(lookup: LookupService) -> None:
    with pytest.raises(InvalidInput, match="why"):
        lookup.page(ref="payments-api", reason=" ", requester=_principal(), dedup_key="k")
    with pytest.raises(InvalidInput, match="no on-call schedule"):
        lookup.page_preview("search-service")


def test_lookups_before_the_first_load_say_the_index_is_loading(
    sessions: SessionFactory, directory: FakeUserDirectory, oncall: FakeOnCall
) -> None:
    from bot.core.audit import AuditLog
    from bot.core.identity import IdentityService
    from bot.runtime.config import PlatformConfig
    from commands.lookup.service.oncall import OnCallDirectory

    service = LookupService(
        index=CatalogIndex(sessions, FakeCatalog()),
        oncall=OnCallDirectory(oncall, cache_seconds=60, local=False),
        identity=IdentityService(directory, PlatformConfig(), sessions),
        audit=AuditLog(sessions),
        team_channels={},
        ui_url=None,
        refresh_interval=timedelta(minutes=15),
        reload_check_seconds=60,
    )
    with pytest.raises(Unavailable, match="still loading"):
        service.owner("payments-api")
    service.reload()
    with pytest.raises(Unavailable, match="not been refreshed"):
        service.owner("payments-api")
