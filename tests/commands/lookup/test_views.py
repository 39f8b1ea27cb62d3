"""The lookup builders: Block Kit validated by slack_sdk, times in the reader's zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.errors import InvalidInput
from commands.lookup import views
from commands.lookup.answers import Ambiguous, Links, OnCall, Person, ServiceCard, Shift, Team
from commands.lookup.ids import ActionId
from commands.lookup.read_model import IndexedEntity

AT = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def _entity(name: str = "payments-api", kind: str = "component") -> IndexedEntity:
    return IndexedEntity(
        ref=f"{kind}:default/{name}", kind=kind, namespace="default", name=name,
        title="Payments API", description="Card payments", lifecycle="production",
        type="service", owner="group:default/payments", system="system:default/checkout",
        tags=("pci",), extras=None, email=None, display_name=None,
    )  # fmt: skip


def _oncall(*, stale: bool = False) -> OnCall:
    return OnCall(
        provider="pagerduty",
        schedule="PEP1",
        current=(Shift(Person("Bob", "U0BOB"), AT - timedelta(hours=1), AT + timedelta(hours=9)),),
        next=(Shift(Person("carol@example.com"), AT + timedelta(hours=9), None),),
        as_of=AT,
        stale=stale,
        problem="GET /oncalls timed out" if stale else None,
    )


def _card(**changes: object) -> ServiceCard:
    values: dict[str, object] = {
        "entity": _entity(),
        "owner": Team("group:default/payments", "Payments", "#payments", (Person("Bob", "U0BOB"),)),
        "owner_person": None,
        "system": "Checkout",
        "oncall": _oncall(),
        "links": Links(runbooks=(("Runbook", "https://runbooks.example/p"),)),
        "catalog_url": "https://backstage.example/catalog/default/component/payments-api",
    }
    values.update(changes)
    return ServiceCard(**values)  # type: ignore[arg-type]


def test_the_card_shows_shift_ends_in_the_readers_zone() -> None:
    text, blocks = views.build_service_card(_card(), "Asia/Kolkata", can_page=True)
    rendered = str(blocks)
    assert "<@U0BOB> until Fri 27 Nov 02:30 IST" in rendered
    assert "carol@example.com from Fri 27 Nov 02:30 IST" in rendered
    assert "Page on-call" in rendered and ActionId.PAGE_ONCALL in rendered
    assert "Payments API: owned by Payments" in text
    _, in_berlin = views.build_service_card(_card(), "Europe/Berlin", can_page=True)
    assert "until Thu 26 Nov 22:00 CET" in str(in_berlin)


def test_no_page_button_without_permission_or_schedule() -> None:
    _, blocks = views.build_service_card(_card(), None, can_page=False)
    assert ActionId.PAGE_ONCALL not in str(blocks)
    unconfigured = OnCall("rotation", None, (), (), AT, configured=False)
    _, blocks = views.build_service_card(_card(oncall=unconfigured), None, can_page=True)
    assert ActionId.PAGE_ONCALL not in str(blocks)
    assert "no on-call schedule in rotation" in str(blocks)


def test_stale_on_call_says_so() -> None:
    _, blocks = views.build_service_card(_card(oncall=_oncall(stale=True)), "UTC", can_page=True)
    assert "pagerduty is not answering (GET /oncalls timed out)" in str(blocks)
    assert "last known on-call from Thu 26 Nov 12:00 UTC" in str(blocks)


def test_an_unknown_time_zone_falls_back_to_utc() -> None:
    assert views.when(AT, "Not/AZone") == "Thu 26 Nov 12:00 UTC"


def test_the_menu_for_an_ambiguous_name_round_trips() -> None:
    error = Ambiguous("payments", [_entity("payments", "api"), _entity("payments", "group")])
    _, blocks = views.build_ambiguous(error, "oncall")
    options = blocks[0]["accessory"]["options"]
    assert [o["value"] for o in options] == [
        "oncall|api:default/payments",
        "oncall|group:default/payments",
    ]
    assert views.parse_pick(options[1]["value"]) == ("oncall", "group:default/payments")
    with pytest.raises(InvalidInput):
        views.parse_pick("garbage")


def test_page_modals_carry_the_entity_and_reason() -> None:
    modal = views.build_page_reason_modal("component:default/payments-api", "Payments API")
    assert views.parse_page_metadata(modal["private_metadata"]) == (
        "component:default/payments-api",
        "",
    )
    with pytest.raises(InvalidInput):
        views.parse_page_metadata("{not json")
