"""The lookup builders: Block Kit validated by slack_sdk, times in the reader's zone."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.emulator.blockkit import check_message_blocks
from bot.errors import InvalidInput
from bot.mrkdwn import SECTION_FIELD_LIMIT, SECTION_TEXT_LIMIT
from commands.lookup import page_views, views
from commands.lookup.answers import (
    Ambiguous,
    Links,
    OnCall,
    Ownership,
    Person,
    ServiceCard,
    Shift,
    Team,
)
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
    modal = page_views.build_page_reason_modal("component:default/payments-api", "Payments API")
    assert page_views.parse_page_metadata(modal["private_metadata"]) == (
        "component:default/payments-api",
        "",
    )
    with pytest.raises(InvalidInput):
        page_views.parse_page_metadata("{not json")


def _person_owned() -> Ownership:
    return Ownership(entity=_entity(), owner=None, owner_person=Person("Dana Data", "U0DANA"))


def test_an_entity_owned_by_a_person_names_that_person_in_every_text() -> None:
    text, blocks = views.build_owner(_person_owned())
    assert text == "payments-api is owned by Dana Data"
    assert blocks[0]["text"]["text"] == "*payments-api* (component) is owned by <@U0DANA>."
    card_text, card = views.build_service_card(
        _card(owner=None, owner_person=Person("Dana Data", "U0DANA")), "UTC", can_page=False
    )
    assert card_text.startswith("Payments API: owned by Dana Data; on call now: ")
    assert "*Owner*\n<@U0DANA>" in [f["text"] for f in card[2]["fields"]]


def test_nobody_only_when_the_catalog_names_no_owner() -> None:
    text, blocks = views.build_owner(Ownership(entity=_entity(), owner=None))
    assert text == "payments-api has no owner in the catalog"
    assert "has no owner in the catalog" in blocks[0]["text"]["text"]


def test_asking_who_owns_a_team_or_a_person_says_what_it_is() -> None:
    team = Team("group:default/payments", "Payments", "#payments", (Person("Bob", "U0BOB"),))
    group = replace(_entity("payments", "group"), title="Payments")
    text, blocks = views.build_owner(Ownership(entity=group, owner=team))
    assert text == "Payments is a team, not a service: teams own services"
    assert blocks[0]["text"]["text"] == (
        "*Payments* is a team, not a service: teams own services. Channel: #payments\n"
        "Members: <@U0BOB>"
    )
    person = _entity("bob", "user")
    text, _ = views.build_owner(Ownership(entity=person, owner=None))
    assert text == "Payments API is a person, not a service: people own services"


def _many(count: int, name: str = "Maximilian Oberbergmeister-Hohenzollern") -> tuple[Person, ...]:
    return tuple(Person(f"{name} {n}") for n in range(count))


def test_a_crowded_card_stays_inside_block_kit_limits_and_says_what_it_left_out() -> None:
    links = tuple((f"Runbook for region {n} " + "x" * 80, f"https://runbooks.example/{n}")
                  for n in range(12))  # fmt: skip
    card = _card(
        entity=_entity(),
        owner=Team("group:default/payments", "Payments " * 40, "#payments", _many(8), 192),
        oncall=OnCall(
            "pagerduty",
            "PEP1",
            tuple(Shift(p, AT, AT + timedelta(hours=2), 1) for p in _many(90)),
            (),
            AT,
        ),
        links=Links(runbooks=links, dashboards=links[:5]),
    )
    _, blocks = views.build_service_card(card, "UTC", can_page=True)
    assert check_message_blocks(blocks) == []
    fields = [f["text"] for b in blocks if b["type"] == "section" for f in b.get("fields", [])]
    assert all(len(f) <= SECTION_FIELD_LIMIT for f in fields)
    on_call_now = next(f for f in fields if f.startswith("*On call now*"))
    assert re.search(r" and \d+ more$", on_call_now), on_call_now
    rendered = str(blocks)
    assert "and 8 more" in rendered  # 12 runbooks, 4 shown
    assert "and 1 more" in rendered  # 5 dashboards, 4 shown
    assert "and 192 more" in rendered  # team members beyond those listed


def test_a_long_description_is_cut_between_links_not_inside_one() -> None:
    description = "Owned by payments. " + "[the runbook](https://runbooks.example/p) " * 150
    _, blocks = views.build_service_card(
        _card(entity=replace(_entity(), description=description)), "UTC", can_page=True
    )
    assert check_message_blocks(blocks) == []
    text = blocks[1]["text"]["text"]
    assert len(text) <= SECTION_TEXT_LIMIT and text.endswith("…")
    assert text.count("<") == text.count(">")


def test_a_name_matching_more_than_a_menu_holds_shows_the_first_100_and_how_to_narrow() -> None:
    candidates = [_entity(f"payments-{n:03d}") for n in range(120)]
    _, blocks = views.build_ambiguous(Ambiguous("payments", candidates), "owner")
    assert check_message_blocks(blocks) == []
    assert len(blocks[0]["accessory"]["options"]) == 100
    assert blocks[0]["text"]["text"] == (
        "`payments` matches 120 entries; the menu shows the first 100 (20 more). "
        "Pick one, or narrow it: `/platform catalog payments kind:component owner:TEAM`, "
        "or a full reference such as `component:default/payments-000`."
    )
    exactly = [_entity(f"payments-{n:03d}") for n in range(100)]
    _, blocks = views.build_ambiguous(Ambiguous("payments", exactly), "owner")
    assert blocks[0]["text"]["text"] == "`payments` matches 100 entries. Which one?"


def test_the_longest_valid_reference_fits_a_menu_value_whole() -> None:
    # Names and namespaces are at most 63 characters, and kinds are the built-in ones.
    longest = _entity("n" * 63, "component")
    longest = replace(longest, ref=f"component:{'s' * 63}/{'n' * 63}")
    _, blocks = views.build_ambiguous(Ambiguous("n" * 63, [longest, _entity()]), "service")
    value = blocks[0]["accessory"]["options"][0]["value"]
    assert views.parse_pick(value) == ("service", longest.ref)
