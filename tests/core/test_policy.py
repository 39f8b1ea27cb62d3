"""The policy decides by the first matching rule, and says why in words a user understands."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from bot.config import PlatformConfig
from bot.identity import Principal
from bot.policy import Policy

CONFIG: dict[str, Any] = {
    "platform": {"support_channel": "#platform-help"},
    "roles": {"admin": {"members": ["UADMIN"]}, "sre": {"members": []}},
    "teams": {"payments": {"members": ["UPAY"], "leads": ["UPAYLEAD"]}, "search": {}},
    "policies": [
        {"action": "catalog.refresh", "allow": ["role:admin"]},
        {
            "action": "db.create",
            "when": {"env": "prod"},
            "allow": ["team:payments", "role:admin"],
            "approval": {"approvers": ["lead:owner", "role:sre"], "count": 1},
            "require_reason": True,
        },
        {"action": "db.*", "allow": ["everyone"]},
        {"action": "env.delete", "when": {"env": ["staging", "dev"]}, "allow": ["lead:payments"]},
        {"action": "lookup.*", "allow": ["everyone"]},
        {"action": "deploy.hotfix", "allow": ["usergroup:oncall", "user:ci-bot@example.com"]},
        {"action": "survey.send", "allow": ["user:UBOT"]},
    ],
}


def principal(user_id: str = "USOMEONE", **changes: Any) -> Principal:
    base = Principal(
        user_id=user_id,
        name="Some One",
        email=f"{user_id.lower()}@example.com",
        tz="Europe/Berlin",
        is_bot=False,
        is_guest=False,
        deleted=False,
        teams=frozenset(),
        lead_of=frozenset(),
        roles=frozenset(),
        usergroups=frozenset(),
    )
    return replace(base, **changes)


@pytest.fixture
def policy() -> Policy:
    return Policy(PlatformConfig.model_validate(CONFIG), read_only_actions=["lookup.*"])


def test_a_role_rule_allows_its_members_and_tells_others_who_may(policy: Policy) -> None:
    admin = principal("UADMIN", roles=frozenset({"admin"}))
    assert policy.can(admin, "catalog.refresh").allowed
    refused = policy.can(principal(), "catalog.refresh")
    assert not refused.allowed
    assert refused.reason == "Only role:admin may run catalog.refresh."
    assert refused.rule is not None and refused.rule.action == "catalog.refresh"


def test_first_matching_rule_decides_and_carries_approval_and_reason(policy: Policy) -> None:
    member = principal("UPAY", teams=frozenset({"payments"}))
    prod = policy.can(member, "db.create", {"env": "prod", "team": "payments"})
    assert prod.allowed and prod.require_reason
    assert prod.approval is not None and prod.approval.approvers == ["lead:owner", "role:sre"]
    # Outside prod the `when` condition fails, so the broader db.* rule decides.
    dev = policy.can(principal(), "db.create", {"env": "dev"})
    assert dev.allowed and dev.approval is None and not dev.require_reason
    assert dev.rule is not None and dev.rule.action == "db.*"
    outsider = policy.can(principal(), "db.create", {"env": "prod"})
    assert not outsider.allowed
    assert outsider.reason == "Only team:payments or role:admin may run db.create."


def test_a_when_list_means_any_of_and_a_missing_context_key_never_matches(policy: Policy) -> None:
    lead = principal("UPAYLEAD", teams=frozenset({"payments"}), lead_of=frozenset({"payments"}))
    assert policy.can(lead, "env.delete", {"env": "staging"}).allowed
    assert policy.can(lead, "env.delete", {"env": "dev"}).allowed
    assert not policy.can(lead, "env.delete", {"env": "prod"}).allowed
    assert not policy.can(lead, "env.delete").allowed


def test_no_matching_rule_is_a_denial_that_points_to_support(policy: Policy) -> None:
    decision = policy.can(principal("UADMIN", roles=frozenset({"admin"})), "cluster.destroy")
    assert not decision.allowed and decision.rule is None
    assert (
        decision.reason == "No policy allows cluster.destroy. Ask in #platform-help if you need it."
    )


def test_team_subject_admits_members_and_leads(policy: Policy) -> None:
    member = principal(teams=frozenset({"payments"}))
    lead = principal(lead_of=frozenset({"payments"}))
    other_team = principal(teams=frozenset({"search"}))
    context = {"env": "prod"}
    assert policy.can(member, "db.create", context).allowed
    assert policy.can(lead, "db.create", context).allowed
    assert not policy.can(other_team, "db.create", context).allowed


def test_user_subject_matches_id_or_email_case_insensitively(policy: Policy) -> None:
    ci = principal("UCI", email="CI-Bot@Example.com")
    assert policy.can(ci, "deploy.hotfix").allowed
    assert policy.can(principal(usergroups=frozenset({"oncall"})), "deploy.hotfix").allowed
    assert not policy.can(principal(), "deploy.hotfix").allowed


def test_guests_and_bots_get_only_read_only_actions_unless_named(policy: Policy) -> None:
    guest = principal("UGUEST", is_guest=True)
    bot = principal("UBOT", is_bot=True)
    assert policy.can(guest, "lookup.owner").allowed
    assert policy.can(bot, "lookup.owner").allowed
    refused = policy.can(guest, "db.create", {"env": "dev"})
    assert not refused.allowed and refused.reason == "Guests cannot run db.create."
    assert policy.can(bot, "db.create", {"env": "dev"}).reason == "Bots cannot run db.create."
    # A guest in an allowed team is still a guest.
    assert not policy.can(
        replace(guest, teams=frozenset({"payments"})), "db.create", {"env": "prod"}
    ).allowed
    assert policy.can(bot, "survey.send").allowed


def test_deactivated_users_are_never_allowed(policy: Policy) -> None:
    gone = principal("UADMIN", roles=frozenset({"admin"}), deleted=True)
    assert not policy.can(gone, "catalog.refresh").allowed
    assert not policy.can(gone, "lookup.owner").allowed
    approval = policy.may_approve(
        gone, requester_id="UPAY", action="db.create", context={"env": "prod"}
    )
    assert not approval.allowed


def test_nobody_approves_their_own_request(policy: Policy) -> None:
    lead = principal("UPAYLEAD", lead_of=frozenset({"payments"}))
    own = policy.may_approve(
        lead,
        requester_id="UPAYLEAD",
        action="db.create",
        context={"env": "prod", "team": "payments"},
    )
    assert not own.allowed and own.reason == "You cannot approve your own request."


def test_lead_owner_means_the_lead_of_the_team_in_the_context(policy: Policy) -> None:
    lead = principal("UPAYLEAD", lead_of=frozenset({"payments"}))
    context = {"env": "prod", "team": "payments"}
    approved = policy.may_approve(lead, requester_id="UPAY", action="db.create", context=context)
    assert approved.allowed and approved.approval is not None
    elsewhere = policy.may_approve(
        lead, requester_id="UPAY", action="db.create", context={"env": "prod", "team": "search"}
    )
    assert not elsewhere.allowed
    assert elsewhere.reason == "Only lead:search or role:sre may approve db.create."
    sre = principal("USRE", roles=frozenset({"sre"}))
    assert policy.may_approve(sre, requester_id="UPAY", action="db.create", context=context).allowed


def test_approval_is_refused_when_the_rule_needs_none(policy: Policy) -> None:
    admin = principal("UADMIN", roles=frozenset({"admin"}))
    decision = policy.may_approve(admin, requester_id="UPAY", action="catalog.refresh")
    assert not decision.allowed
    assert decision.reason == "Nothing to approve: no policy asks for approval of catalog.refresh."


def test_guests_cannot_approve_even_when_they_hold_the_role(policy: Policy) -> None:
    guest_sre = principal("USRE", roles=frozenset({"sre"}), is_guest=True)
    decision = policy.may_approve(
        guest_sre, requester_id="UPAY", action="db.create", context={"env": "prod"}
    )
    assert not decision.allowed and decision.reason == "Guests cannot approve db.create."


def test_allowed_actions_lists_what_help_may_show(policy: Policy) -> None:
    actions = ["catalog.refresh", "db.create", "db.drop", "lookup.owner", "deploy.hotfix"]
    assert policy.allowed_actions(principal(), actions) == {"db.create", "db.drop", "lookup.owner"}
    admin = principal("UADMIN", roles=frozenset({"admin"}))
    assert "catalog.refresh" in policy.allowed_actions(admin, actions)


def test_glob_rules_do_not_match_across_prefixes() -> None:
    policy = Policy(
        PlatformConfig.model_validate({"policies": [{"action": "db.*", "allow": ["everyone"]}]})
    )
    assert policy.can(principal(), "db.create").allowed
    assert not policy.can(principal(), "dbx.create").allowed
    assert not policy.can(principal(), "DB.create").allowed


def test_problems_name_undefined_roles_and_teams() -> None:
    config = PlatformConfig.model_validate(
        {
            "roles": {"admin": {}},
            "teams": {"payments": {}},
            "policies": [
                {"action": "a", "allow": ["role:admni", "team:payments", "lead:owner"]},
                {
                    "action": "b",
                    "allow": ["role:admin"],
                    "approval": {"approvers": ["lead:paymnts"]},
                },
            ],
        }
    )
    assert Policy(config).problems() == [
        "policies[0].allow: role:admni: no such role under `roles`",
        "policies[1].approval.approvers: lead:paymnts: no such team under `teams`",
    ]
