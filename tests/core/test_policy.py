"""The policy decides by the first matching rule, and says why in words a user understands."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from bot.core.identity import Principal
from bot.core.policy import Policy
from bot.runtime.config import PlatformConfig

CONFIG: dict[str, Any] = {
    "platform": {"support_channel": "#platform-help"},
    "roles": {"admin": {"members": ["UADMIN"]}, "sre": {"members": []}},
    "teams": {
        "payments": {"name": "Payments", "members": ["UPAY"], "leads": ["UPAYLEAD"]},
        "search": {"name": "Search & Rescue"},
    },
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
    policy = Policy(PlatformConfig.model_validate(CONFIG), read_only_actions=["lookup.*"])
    policy.describe_actions({"db.create": "create databases", "catalog.refresh": "refresh it"})
    return policy


def test_a_role_rule_allows_its_members_and_tells_others_who_may(policy: Policy) -> None:
    admin = principal("UADMIN", roles=frozenset({"admin"}))
    assert policy.can(admin, "catalog.refresh").allowed
    refused = policy.can(principal(), "catalog.refresh")
    assert not refused.allowed
    assert refused.reason == "Only admins may refresh it."
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
    assert outsider.reason == "Only members of Payments or admins may create databases."


def test_a_when_list_means_any_of_and_a_missing_context_key_never_matches(policy: Policy) -> None:
    lead = principal("UPAYLEAD", teams=frozenset({"payments"}), lead_of=frozenset({"payments"}))
    assert policy.can(lead, "env.delete", {"env": "staging"}).allowed
    assert policy.can(lead, "env.delete", {"env": "dev"}).allowed
    assert not policy.can(lead, "env.delete", {"env": "prod"}).allowed
    assert not policy.can(lead, "env.delete").allowed


def test_no_matching_rule_is_a_denial_that_points_to_support(policy: Policy) -> None:
    decision = policy.can(principal("UADMIN", roles=frozenset({"admin"})), "cluster.destroy")
    assert not decision.allowed and decision.rule is None
    assert decision.reason == (
        "The platform's policy does not let anyone do that. Ask in #platform-help if you need it."
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
    assert not refused.allowed and refused.reason == "Guests cannot create databases."
    assert policy.can(bot, "db.create", {"env": "dev"}).reason == "Bots cannot create databases."
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
    # A team's display name from the config, escaped for mrkdwn.
    assert elsewhere.reason == (
        "Only the leads of Search &amp; Rescue or people with the sre role "
        "may approve this request."
    )
    sre = principal("USRE", roles=frozenset({"sre"}))
    assert policy.may_approve(sre, requester_id="UPAY", action="db.create", context=context).allowed


def test_approval_is_refused_when_the_rule_needs_none(policy: Policy) -> None:
    admin = principal("UADMIN", roles=frozenset({"admin"}))
    decision = policy.may_approve(admin, requester_id="UPAY", action="catalog.refresh")
    assert not decision.allowed
    assert decision.reason == "Nothing to approve: this needs nobody's approval."


def test_guests_cannot_approve_even_when_they_hold_the_role(policy: Policy) -> None:
    guest_sre = principal("USRE", roles=frozenset({"sre"}), is_guest=True)
    decision = policy.may_approve(
        guest_sre, requester_id="UPAY", action="db.create", context={"env": "prod"}
    )
    assert not decision.allowed and decision.reason == "Guests cannot approve this request."


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


def test_refusals_name_people_and_groups_as_a_person_would() -> None:
    config = PlatformConfig.model_validate(
        {
            "roles": {"admin": {}, "dba": {}},
            "teams": {"payments": {"name": "Payments"}, "search": {}},
            "policies": [
                {
                    "action": "db.create",
                    "allow": [
                        "usergroup:platform-team",
                        "role:admin",
                        "role:dba",
                        "lead:payments",
                        "team:search",
                        "user:U0BOB",
                        "user:Ops@Example.com",
                    ],
                },
                {"action": "db.drop", "allow": ["lead:owner"]},
            ],
        }
    )
    policy = Policy(config)
    policy.describe_actions({"db.create": "create databases"})
    refused = policy.can(principal(), "db.create")
    assert refused.reason == (
        "Only the platform-team group, admins, people with the dba role, the leads of Payments, "
        "members of search, <@U0BOB> or ops@example.com may create databases."
    )
    # An action no feature described is not named by its policy name.
    assert policy.can(principal(), "db.drop", {"team": "payments"}).reason == (
        "Only the leads of Payments may do that."
    )
    assert policy.can(principal(), "db.drop").reason == "Only the owning team's leads may do that."


def test_names_from_the_config_cannot_become_markup() -> None:
    hostile = "<!channel> <https://evil.example/sso|Approve>"
    config = PlatformConfig.model_validate(
        {
            "platform": {"support_channel": "<!here>"},
            "teams": {"payments": {"name": hostile}},
            "policies": [{"action": "db.create", "allow": ["lead:payments"]}],
        }
    )
    policy = Policy(config)
    reasons = [policy.can(principal(), "db.create").reason, policy.can(principal(), "x").reason]
    assert all("<!" not in r and "<https" not in r for r in reasons), reasons
    assert "&lt;!channel&gt;" in reasons[0] and "&lt;!here&gt;" in reasons[1]


class FakeRoster:
    def role_members(self, role: str) -> list[str]:
        return {"admin": ["UADMIN"], "sre": []}.get(role, [])

    def team_members(self, team: str) -> list[str]:
        return {"payments": ["UPAY", "UPAYLEAD"]}.get(team, [])

    def team_leads(self, team: str) -> list[str]:
        return {"payments": ["UPAYLEAD"]}.get(team, [])

    def usergroup_members(self, handle: str) -> list[str]:
        return {"oncall": ["UONCALL"]}.get(handle, [])

    def user_for_email(self, email: str) -> str | None:
        return {"ci-bot@example.com": "UCI"}.get(email)


def test_approver_candidates_list_who_the_approval_rule_names() -> None:
    config = PlatformConfig.model_validate(
        {
            "roles": {"admin": {}},
            "teams": {"payments": {"name": "Payments"}},
            "policies": [
                {
                    "action": "db.create",
                    "allow": ["everyone"],
                    "approval": {
                        "approvers": [
                            "lead:owner",
                            "role:admin",
                            "usergroup:oncall",
                            "user:ci-bot@example.com",
                            "user:UDIRECT",
                        ]
                    },
                },
                {
                    "action": "db.drop",
                    "allow": ["everyone"],
                    "approval": {"approvers": ["everyone"]},
                },
            ],
        }
    )
    policy = Policy(config)
    roster = FakeRoster()
    assert policy.approver_candidates("db.create", {"team": "payments"}, roster) == {
        "UPAYLEAD",
        "UADMIN",
        "UONCALL",
        "UCI",
        "UDIRECT",
    }
    # lead:owner of a team the config does not define names nobody.
    assert "UPAYLEAD" not in (policy.approver_candidates("db.create", {"team": "x"}, roster) or ())
    assert policy.approver_candidates("db.drop", {}, roster) is None  # everyone: not listable
    assert policy.approver_candidates("nothing", {}, roster) == frozenset()
    assert policy.approvers_named("db.create", {"team": "payments"}) == (
        "the leads of Payments, admins, the oncall group, ci-bot@example.com or <@UDIRECT>"
    )
