"""Plan costs: the config that sets them, the form and the card that show them."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.runtime.config import ConfigError, parse_config
from commands.new_db.ids import BlockId
from commands.new_db.models import RequestStatus
from commands.new_db.service.options import Option
from commands.new_db.service.types import ResourceInfo
from commands.new_db.views import menus, messages, modals
from commands.new_db.views.messages import LISTED_MAX
from commands.resources.config import MAX_MONTHLY_COST, DatabasesSection
from tests.commands.new_db.views.samples import (
    block_of,
    checked,
    checked_view,
    choices,
    request,
    resource,
)

OPTION_TEXT_LIMIT = 75


def _section(plan: str, currency: str | None = None) -> DatabasesSection:
    extra = f"  currency: {currency}\n" if currency is not None else ""
    text = f"databases:\n{extra}  engines:\n    redis:\n      plans: {{small: {{{plan}}}}}\n"
    return parse_config(text, "p.yaml", {}).databases


@pytest.mark.parametrize("cost", ["0", "12", "12.5", str(MAX_MONTHLY_COST)])
def test_a_plan_cost_from_zero_to_the_maximum_is_read(cost: str) -> None:
    section = _section(f"tiers: [dev], monthly_cost: {cost}")
    assert section.monthly_cost("redis", "small") == float(cost)


@pytest.mark.parametrize(
    "cost", ["-0.01", str(MAX_MONTHLY_COST + 0.01), ".nan", ".inf", "-.inf", "cheap", "''"]
)
def test_a_plan_cost_that_is_no_usable_amount_is_refused_by_its_key(cost: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _section(f"tiers: [dev], monthly_cost: {cost}")
    assert "p.yaml:4: databases.engines.redis.plans.small.monthly_cost:" in str(caught.value)


def test_a_plan_without_a_cost_has_none_and_the_currency_defaults_to_usd() -> None:
    section = _section("tiers: [dev]")
    assert section.monthly_cost("redis", "small") is None
    assert section.monthly_cost("redis", "huge") is None
    assert section.monthly_cost("postgres", "small") is None
    assert section.currency == "USD"


@pytest.mark.parametrize("currency", ["usd", "EURO", "EU", "''", "E1R"])
def test_a_currency_that_is_no_iso_code_is_refused(currency: str) -> None:
    with pytest.raises(ConfigError, match=r"databases\.currency:"):
        _section("tiers: [dev]", currency)


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        (0, "0 EUR a month"),
        (12, "12 EUR a month"),
        (12.5, "12.50 EUR a month"),
        (1250.5, "1,250.50 EUR a month"),
        (MAX_MONTHLY_COST, "1,000,000 EUR a month"),
    ],
)
def test_costs_read_as_people_say_them(amount: float, shown: str) -> None:
    assert menus.cost_text(amount, "EUR") == shown


def test_the_form_shows_each_plans_cost_after_its_label() -> None:
    plans = [Option("small", "Small", 15.0), Option("large", "Large", None)]
    view = checked_view(modals.build_request_modal(choices("dev", plans=plans, currency="EUR")))

    shown = [o["text"]["text"] for o in block_of(view, BlockId.PLAN)["element"]["options"]]
    assert shown == ["Small · 15 EUR a month", "Large"]


@pytest.mark.parametrize("length", [40, OPTION_TEXT_LIMIT, 300])
def test_a_long_plan_label_is_cut_so_that_its_cost_stays_whole(length: int) -> None:
    plans = [Option("small", "x" * length, MAX_MONTHLY_COST)]
    view = checked_view(modals.build_request_modal(choices("dev", plans=plans)))

    text = block_of(view, BlockId.PLAN)["element"]["options"][0]["text"]["text"]
    assert text.endswith(" · 1,000,000 USD a month")
    assert len(text) == min(OPTION_TEXT_LIMIT, length + len(" · 1,000,000 USD a month"))


def test_the_request_card_shows_the_plans_cost_when_the_config_has_one() -> None:
    info = request(RequestStatus.PENDING, ttl_hours=72.0, reason=None, approvals_needed=1)
    priced = replace(info, resource=resource(monthly_cost=15.0, currency="EUR"))

    with_cost = checked(messages.build_request_card(priced))[0]["text"]["text"]
    without = checked(messages.build_request_card(info))[0]["text"]["text"]

    assert "Plan: *small* (15 EUR a month) · TTL: 72 h" in with_cost
    assert "Plan: *small* · TTL: 72 h" in without


def _cost_line(resources: list[ResourceInfo]) -> str | None:
    blocks = checked(messages.build_listing(resources))
    texts = [
        element["text"]
        for block in blocks
        if block["type"] == "context"
        for element in block["elements"]
    ]
    costs = [text for text in texts if text.startswith("Cost:")]
    assert len(costs) <= 1
    return costs[0] if costs else None


def test_the_dbs_listing_adds_up_what_the_running_databases_cost() -> None:
    listed = [
        resource(id="r1", name="a-db", monthly_cost=15.0, status="active"),
        resource(id="r2", name="b-db", monthly_cost=60.5, status="provisioning"),
        resource(id="r3", name="c-db", monthly_cost=None, status="active"),
        resource(id="r4", name="d-db", monthly_cost=99.0, status="awaiting_approval"),
        resource(id="r5", name="e-db", monthly_cost=99.0, status="dropped"),
    ]

    assert _cost_line(listed) == (
        "Cost: 75.50 USD a month for the 2 running databases with a priced plan."
    )
    assert _cost_line(listed[:1]) == (
        "Cost: 15 USD a month for the 1 running database with a priced plan."
    )


def test_databases_beyond_the_listed_rows_are_still_counted_in_the_cost() -> None:
    many = [
        resource(id=f"r{n:03d}", name=f"db-{n:03d}", monthly_cost=1.0, status="active")
        for n in range(LISTED_MAX + 10)
    ]

    assert _cost_line(many) == (
        f"Cost: {LISTED_MAX + 10} USD a month for the {LISTED_MAX + 10} running databases "
        "with a priced plan."
    )


def test_without_a_priced_running_database_the_listing_says_nothing_of_cost() -> None:
    assert _cost_line([resource(monthly_cost=None)]) is None
    assert _cost_line([resource(monthly_cost=15.0, status="dropping")]) is None
    assert _cost_line([resource(monthly_cost=0.0)]) == (
        "Cost: 0 USD a month for the 1 running database with a priced plan."
    )
