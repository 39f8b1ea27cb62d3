"""The owner, on-call and service-card builders: Block Kit checked, times in the reader's zone."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

from bot.core.mrkdwn import SECTION_FIELD_LIMIT, SECTION_TEXT_LIMIT
from bot.core.runbook_links import RunbookLink
from bot.emulator.blockkit import check_message_blocks
from commands.lookup.ids import ActionId, BlockId
from commands.lookup.service.types import (
    Links,
    OnCall,
    OnCallResult,
    Ownership,
    Person,
    Shift,
    Team,
)
from commands.lookup.views import cards
from tests.commands.lookup.views.samples import (
    AT,
    make_card,
    make_entity,
    make_oncall,
    many_people,
)
from tests.hostile import HOSTILE_TEXT, RAW_MARKERS


def test_the_card_shows_shift_ends_in_the_readers_zone() -> None:
    text, blocks = cards.build_service_card(make_card(), "Asia/Kolkata", can_page=True)
    rendered = str(blocks)
    assert "<@U0BOB> until Fri 27 Nov 02:30 IST" in rendered
    assert "carol@example.com from Fri 27 Nov 02:30 IST" in rendered
    assert "Page on-call" in rendered and ActionId.PAGE_ONCALL in rendered
    assert "Payments API: owned by Payments" in text
    _, in_berlin = cards.build_service_card(make_card(), "Europe/Berlin", can_page=True)
    assert "until Thu 26 Nov 22:00 CET" in str(in_berlin)


def test_no_page_button_without_permission_or_schedule() -> None:
    _, blocks = cards.build_service_card(make_card(), None, can_page=False)
    assert ActionId.PAGE_ONCALL not in str(blocks)
    unconfigured = OnCall("rotation", None, (), (), AT, configured=False)
    _, blocks = cards.build_service_card(make_card(oncall=unconfigured), None, can_page=True)
    assert ActionId.PAGE_ONCALL not in str(blocks)
    assert "no on-call schedule in rotation" in str(blocks)


def test_stale_on_call_says_so() -> None:
    _, blocks = cards.build_service_card(
        make_card(oncall=make_oncall(stale=True)), "UTC", can_page=True
    )
    assert "pagerduty is not answering (GET /oncalls timed out)" in str(blocks)
    assert "last known on-call from Thu 26 Nov 12:00 UTC" in str(blocks)


def _person_owned() -> Ownership:
    return Ownership(entity=make_entity(), owner=None, owner_person=Person("Dana Data", "U0DANA"))


def test_an_entity_owned_by_a_person_names_that_person_in_every_text() -> None:
    text, blocks = cards.build_owner(_person_owned())
    assert text == "payments-api is owned by Dana Data"
    assert blocks[0]["text"]["text"] == "*payments-api* (component) is owned by <@U0DANA>."
    card_text, card = cards.build_service_card(
        make_card(owner=None, owner_person=Person("Dana Data", "U0DANA")), "UTC", can_page=False
    )
    assert card_text.startswith("Payments API: owned by Dana Data; on call now: ")
    assert "*Owner*\n<@U0DANA>" in [f["text"] for f in card[2]["fields"]]


def test_nobody_only_when_the_catalog_names_no_owner() -> None:
    text, blocks = cards.build_owner(Ownership(entity=make_entity(), owner=None))
    assert text == "payments-api has no owner in the catalog"
    assert "has no owner in the catalog" in blocks[0]["text"]["text"]


def test_asking_who_owns_a_team_or_a_person_says_what_it_is() -> None:
    team = Team("group:default/payments", "Payments", "#payments", (Person("Bob", "U0BOB"),))
    group = replace(make_entity("payments", "group"), title="Payments")
    text, blocks = cards.build_owner(Ownership(entity=group, owner=team))
    assert text == "Payments is a team, not a service: teams own services"
    assert blocks[0]["text"]["text"] == (
        "*Payments* is a team, not a service: teams own services. Channel: #payments\n"
        "Members: <@U0BOB>"
    )
    person = make_entity("bob", "user")
    text, _ = cards.build_owner(Ownership(entity=person, owner=None))
    assert text == "Payments API is a person, not a service: people own services"


def test_a_crowded_card_stays_inside_block_kit_limits_and_says_what_it_left_out() -> None:
    links = tuple((f"Runbook for region {n} " + "x" * 80, f"https://runbooks.example/{n}")
                  for n in range(12))  # fmt: skip
    card = make_card(
        entity=make_entity(),
        owner=Team("group:default/payments", "Payments " * 40, "#payments", many_people(8), 192),
        oncall=OnCall(
            "pagerduty",
            "PEP1",
            tuple(Shift(p, AT, AT + timedelta(hours=2), 1) for p in many_people(90)),
            (),
            AT,
        ),
        links=Links(runbooks=links, dashboards=links[:5]),
    )
    _, blocks = cards.build_service_card(card, "UTC", can_page=True)
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
    _, blocks = cards.build_service_card(
        make_card(entity=replace(make_entity(), description=description)), "UTC", can_page=True
    )
    assert check_message_blocks(blocks) == []
    text = blocks[1]["text"]["text"]
    assert len(text) <= SECTION_TEXT_LIMIT and text.endswith("…")
    assert text.count("<") == text.count(">")


def test_the_oncall_answer_shows_now_next_the_schedule_and_the_team_channel() -> None:
    team = Team("group:default/payments", "Payments", "C0PAYMENTS")
    answer = OnCallResult(entity=make_entity(), team=team, oncall=make_oncall())
    text, blocks = cards.build_oncall(answer, "Asia/Kolkata")
    assert check_message_blocks(blocks) == []
    assert text == "On call for payments-api: <@U0BOB> until Fri 27 Nov 02:30 IST"
    assert blocks[0]["text"]["text"] == (
        "*On call for payments-api* (pagerduty `PEP1`)\n"
        "*Now:* <@U0BOB> until Fri 27 Nov 02:30 IST\n"
        "*Next:* carol@example.com from Fri 27 Nov 02:30 IST\n"
        "Team channel: <#C0PAYMENTS>"
    )
    assert len(blocks) == 1  # no stale note


def test_an_oncall_answer_still_being_fetched_or_stale_says_so() -> None:
    pending = OnCallResult(entity=make_entity(), team=None, oncall=None, pending=True)
    text, blocks = cards.build_oncall(pending, None)
    assert text == "On call for payments-api: _asking the on-call tool…_"
    assert "Team channel" not in blocks[0]["text"]["text"]
    stale = OnCallResult(entity=make_entity(), team=None, oncall=make_oncall(stale=True))
    _, blocks = cards.build_oncall(stale, "UTC")
    assert check_message_blocks(blocks) == []
    assert blocks[1]["type"] == "context"
    assert "pagerduty is not answering (GET /oncalls timed out)" in blocks[1]["elements"][0]["text"]


def test_hostile_schedule_and_team_names_stay_text_in_the_oncall_answer() -> None:
    team = Team("group:default/payments", HOSTILE_TEXT, HOSTILE_TEXT)
    oncall = replace(make_oncall(), schedule=HOSTILE_TEXT, provider=HOSTILE_TEXT)
    text, blocks = cards.build_oncall(
        OnCallResult(entity=make_entity(), team=team, oncall=oncall), None
    )
    shown = str(blocks) + text
    assert not any(marker in shown for marker in RAW_MARKERS)
    assert "&lt;!channel&gt;" in blocks[0]["text"]["text"]


def test_the_cards_runbooks_line_shows_five_escaped_and_counts_the_rest() -> None:
    links = [RunbookLink(f"rb-{i}", f"Fix {i}") for i in range(7)]
    links[0] = RunbookLink("rb-0", HOSTILE_TEXT)
    _, blocks = cards.build_service_card(make_card(), None, can_page=False, runbooks=links)
    check_message_blocks(blocks)
    [line] = [b["text"]["text"] for b in blocks if b.get("block_id") == BlockId.CARD_RUNBOOKS]
    assert line.startswith("*Runbooks:* `/platform runbook run rb-0` (&lt;!channel&gt;")
    assert "`/platform runbook run rb-4` (Fix 4) and 2 more" in line
    assert "rb-5" not in line and not any(marker in line for marker in RAW_MARKERS)
    _, without = cards.build_service_card(make_card(), None, can_page=False)
    assert BlockId.CARD_RUNBOOKS not in str(without)


def test_long_runbook_titles_stay_within_a_section_and_count_what_did_not_fit() -> None:
    links = [RunbookLink(f"rb-{i}", "t" * 80) for i in range(5)]
    line = cards.runbooks_text(links, limit=300)
    assert line is not None and len(line) <= 300 and line.endswith("more")
