"""Whose install a request belongs to, and where that tenant's data lives."""

from __future__ import annotations

import pytest

from bot.runtime.installations import TenantKey
from bot.runtime.services import LEADER_LOCK_KEY, leader_lock_key
from bot.runtime.settings import Settings
from bot.runtime.tenants import tenant_database_url, tenant_schema

BETA = TenantKey(None, "T0BETA", org_wide=False)


def test_a_workspace_install_is_keyed_by_its_team_even_inside_a_grid() -> None:
    key = TenantKey.of("E0GRID", "T0BETA", is_enterprise_install=False)
    assert key == TenantKey("E0GRID", "T0BETA", org_wide=False)
    assert key is not None and key.name == "T0BETA" and key.store_team_id == "T0BETA"


def test_an_org_wide_install_is_keyed_by_its_enterprise() -> None:
    key = TenantKey.of("E0GRID", "T0BETA", is_enterprise_install=True)
    assert key == TenantKey("E0GRID", None, org_wide=True)
    assert key is not None and key.name == "E0GRID" and key.store_team_id is None


@pytest.mark.parametrize(
    ("enterprise", "team", "org_wide"),
    [
        (None, None, False),  # no team
        (None, "T0BETA", True),  # org-wide without an enterprise
        (None, "", False),
        (None, "t0beta", False),  # not a Slack id
        (None, "T0BETA; DROP SCHEMA public", False),
        (None, "../../etc/passwd", False),
        ("E0GRID\n", "T0BETA", False),
        (None, "T" + "0" * 32, False),  # one past Slack's length
        (None, "U0ALICE", False),  # a user id, not a team
    ],
)
def test_ids_that_are_not_slacks_name_no_tenant(
    enterprise: str | None, team: str | None, org_wide: bool
) -> None:
    assert TenantKey.of(enterprise, team, org_wide) is None


def test_the_longest_slack_id_still_names_a_tenant() -> None:
    assert TenantKey.of(None, "T" + "0" * 31, False) is not None


def test_each_tenant_has_its_own_sqlite_file_or_postgresql_schema() -> None:
    assert tenant_database_url("sqlite:////data/bot.db", BETA) == "sqlite:////data/bot.t0beta.db"
    assert tenant_database_url("sqlite://", BETA) == "sqlite://"
    postgres = "postgresql://bot@db/platform"
    assert tenant_database_url(postgres, BETA) == postgres
    assert tenant_schema(BETA) == "tenant_t0beta"


def test_each_tenant_has_its_own_scheduler_leader_lock() -> None:
    assert leader_lock_key() == LEADER_LOCK_KEY
    keys = {leader_lock_key(name) for name in ("T0AAA", "T0BBB", "E0GRID")}
    assert len(keys) == 3 and LEADER_LOCK_KEY not in keys
    assert all(-(2**63) <= key < 2**63 for key in keys)
    assert leader_lock_key("T0AAA") == leader_lock_key("T0AAA")  # the same in every replica


@pytest.mark.parametrize(
    ("api_url", "authorize"),
    [
        ("https://slack.com/api/", "https://slack.com/oauth/v2/authorize"),
        ("https://slack-gov.com/api", "https://slack-gov.com/oauth/v2/authorize"),
        ("http://127.0.0.1:9/api/", "http://127.0.0.1:9/oauth/v2/authorize"),
    ],
)
def test_the_authorize_page_is_on_the_web_apis_host(api_url: str, authorize: str) -> None:
    assert Settings(slack_api_url=api_url).oauth_authorize_url() == authorize


def test_one_workspace_mode_is_the_default() -> None:
    assert not Settings().multi_workspace
    assert Settings(slack_client_id="1.2").multi_workspace
