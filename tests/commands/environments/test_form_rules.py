"""Every rule of the create form at its edges: names, tiers, TTLs, teams, quotas, inputs."""

from __future__ import annotations

import math

import pytest

from bot.core.errors import NotFound
from commands.environments.handlers import parse_env_args
from commands.environments.service.records import name_problem
from commands.environments.service.requests import FormValues
from commands.resources.forms import FormInvalid
from tests.commands.environments.conftest import EnvBot
from tests.commands.environments.driving import BOB, DAVE, create, wait_status


def form(**values: str) -> FormValues:
    base = {"template": "sandbox", "name": "my-env", "tier": "dev", "team": "payments"}
    return FormValues(**{**base, **values})  # type: ignore[arg-type]


def errors_of(envbot: EnvBot, user: str, values: FormValues) -> dict[str, str]:
    principal = envbot.services.identity.principal(user)
    with pytest.raises(FormInvalid) as raised:
        envbot.api.requests.check(principal, values)
    return raised.value.errors


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("ab", "At least 3"),
        ("abc", None),
        ("a" * 20, None),
        ("a" * 21, "At most 20"),
        ("abc-", "End with a letter"),
        ("1abc", "starting with a letter"),
        ("ab_c", "Use lowercase"),
        ("Abc", "Use lowercase"),
        ("", "At least 3"),
        ("ab\ncd", "Use lowercase"),
    ],
)
def test_names_have_3_to_20_safe_characters(name: str, problem: str | None) -> None:
    found = name_problem(name)
    assert (found is None) if problem is None else (found is not None and problem in found)


def test_the_longest_name_still_makes_valid_resource_names(envbot: EnvBot) -> None:
    principal = envbot.services.identity.principal(BOB)
    request = envbot.api.requests.check(principal, form(template="preview", name="a" * 20))
    template = envbot.api.context.templates[request.template]
    assert (
        max(len(s.name) for s in template.shapes(request.name, envbot.api.context.databases)) <= 31
    )


@pytest.mark.parametrize(
    ("ttl", "ok"),
    [("", True), ("0", False), ("336", True), ("336.5", False), ("0.5", True), ("nan", False),
     ("inf", False), ("1e3", False), ("-1", False), ("9" * 13, False)],
)  # fmt: skip
def test_time_to_live_is_above_0_and_at_most_the_tiers_maximum(
    envbot: EnvBot, ttl: str, ok: bool
) -> None:
    principal = envbot.services.identity.principal(BOB)
    if ok:
        request = envbot.api.requests.check(principal, form(ttl=ttl))
        assert request.ttl_hours is not None and math.isfinite(request.ttl_hours)
        assert request.ttl_hours == (float(ttl) if ttl else 72.0)  # dev's default
    else:
        assert "ttl" in errors_of(envbot, BOB, form(ttl=ttl))


def test_a_templates_own_ttl_overrides_the_tiers(envbot: EnvBot) -> None:
    principal = envbot.services.identity.principal(BOB)
    request = envbot.api.requests.check(principal, form(template="pg-terraform", ttl="72"))
    assert request.ttl_hours == 72
    assert "at most 72." in errors_of(envbot, BOB, form(template="pg-terraform", ttl="72.5"))["ttl"]


def test_a_tier_the_template_does_not_allow_is_refused(envbot: EnvBot) -> None:
    assert "for dev" in errors_of(envbot, BOB, form(tier="prod"))["tier"]


def test_only_your_own_teams_may_own_what_you_create(envbot: EnvBot) -> None:
    assert "team" in errors_of(envbot, BOB, form(team="search"))
    assert "team" in errors_of(envbot, DAVE, form(team="payments"))


def test_reason_is_at_most_500_characters(envbot: EnvBot) -> None:
    principal = envbot.services.identity.principal(BOB)
    assert envbot.api.requests.check(principal, form(reason="r" * 500)).reason == "r" * 500
    assert "reason" in errors_of(envbot, BOB, form(reason="r" * 501))


def test_an_unknown_template_is_named_as_the_field_to_fix(envbot: EnvBot) -> None:
    assert "template" in errors_of(envbot, BOB, form(template="nope"))


def test_a_live_name_is_taken_and_the_quota_counts_live_environments(envbot: EnvBot) -> None:
    create(envbot, BOB, "env create sandbox taken", tier="dev")
    wait_status(envbot, "taken", "ready")
    assert "taken by a live environment" in errors_of(envbot, BOB, form(name="taken"))["name"]
    principal = envbot.services.identity.principal(BOB)
    quotas = envbot.api.context.section.quotas.model_copy(update={"default": {"dev": 1}})
    section = envbot.api.context.section.model_copy(update={"quotas": quotas})
    object.__setattr__(envbot.api.context, "section", section)
    assert "all 1 dev environments" in errors_of(envbot, BOB, form(name="second"))["tier"]
    quotas = quotas.model_copy(update={"default": {"dev": 2}})
    object.__setattr__(envbot.api.context, "section", section.model_copy(update={"quotas": quotas}))
    assert envbot.api.requests.check(principal, form(name="second")).name == "second"


def test_prod_asks_for_a_reason_before_it_shows_a_plan(envbot: EnvBot) -> None:
    principal = envbot.services.identity.principal(BOB)
    request = envbot.api.requests.check(principal, form(template="release", tier="prod"))
    with pytest.raises(FormInvalid) as raised:  # prod asks for a reason
        envbot.api.requests.plan(principal, request)
    assert "reason" in raised.value.errors


def test_show_of_an_unknown_or_foreign_environment_says_the_same(envbot: EnvBot) -> None:
    principal = envbot.services.identity.principal(DAVE)
    with pytest.raises(NotFound) as unknown:
        envbot.api.lifecycle.find(principal, "nope")
    assert "no environment called `nope`" in unknown.value.message
    with pytest.raises(NotFound):
        envbot.api.lifecycle.get(principal, "0" * 32)


@pytest.mark.parametrize(
    ("args", "positional", "tier"),
    [
        (["create", "preview", "x", "--tier", "dev"], ["create", "preview", "x"], "dev"),
        (["create", "--tier=staging"], ["create"], "staging"),
        (["create", "--tier"], ["create", "--tier"], None),
        ([], [], None),
    ],
)
def test_env_arguments(args: list[str], positional: list[str], tier: str | None) -> None:
    assert parse_env_args(args) == (positional, tier)
