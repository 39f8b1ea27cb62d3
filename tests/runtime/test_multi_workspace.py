"""Multi-workspace mode end to end: installs through the emulator's OAuth, each workspace
answered with its own token from its own data, uninstall removing one and not the other."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from bot.core.scheduler import run_task
from bot.emulator import Emulator
from bot.runtime.installations import TenantKey
from bot.runtime.workspaces import NOT_INSTALLED
from tests.core.polling import wait_until
from tests.runtime.multi_workspace import BETA as BETA_WORKSPACE
from tests.runtime.multi_workspace import (
    GRID,
    SECRET_KEY,
    MultiBot,
    multi_workspace_bot,
    two_replicas,
)

ACME = TenantKey(None, "T0PLATFORM", org_wide=False)
BETA = TenantKey(None, "T0BETA", org_wide=False)


def _shown(bot: MultiBot, team: str, user: str) -> str:
    state = bot.emulator.backend_for(team).state
    return "\n".join(e.text + str(e.blocks) for e in state.ephemerals(user))


def _known_people(bot: MultiBot, key: TenantKey) -> set[str]:
    with bot.tenant(key).services.engine.connect() as connection:
        return set(connection.scalars(text("SELECT user_id FROM identity_user")))


def test_two_workspaces_install_and_each_is_answered_with_its_own_token(tmp_path: Path) -> None:
    with multi_workspace_bot(tmp_path) as bot:
        assert bot.install("T0PLATFORM").status_code == 200
        assert bot.install("T0BETA").status_code == 200
        bot.emulator.calls.clear()

        assert bot.signer("T0PLATFORM").slash_command("U0ALICE", "whoami").status == 200
        assert bot.signer("T0BETA").slash_command("U0BETTY", "whoami").status == 200
        assert bot.emulator.wait_for(
            lambda: (
                "Betty Beta" in _shown(bot, "T0BETA", "U0BETTY")
                and "Alice Admin" in _shown(bot, "T0PLATFORM", "U0ALICE")
            )
        )

        calls = bot.emulator.calls()
        assert calls, "whoami reads the person's profile through the Web API"
        assert {c.team for c in calls} == {"T0PLATFORM", "T0BETA"}
        assert all(c.error is None for c in calls)
        asked = {(c.team, c.params.get("user")) for c in calls if c.method == "users.info"}
        assert asked == {("T0PLATFORM", "U0ALICE"), ("T0BETA", "U0BETTY")}
        # Each workspace's data lives apart: neither knows the other's people.
        assert _known_people(bot, ACME) == {"U0ALICE"}
        assert _known_people(bot, BETA) == {"U0BETTY"}
        assert "Alice" not in _shown(bot, "T0BETA", "U0BETTY")


def test_a_workspace_that_never_installed_is_told_so(tmp_path: Path) -> None:
    with multi_workspace_bot(tmp_path) as bot:
        bot.install("T0PLATFORM")
        response = bot.signer("T0BETA").slash_command("U0BETTY", "help")
        assert response.status == 200
        assert NOT_INSTALLED in _shown(bot, "T0BETA", "U0BETTY")
        assert bot.emulator.calls(team="T0BETA") == []
        assert bot.multi.tenants.get(BETA) is None


def test_uninstall_removes_one_workspace_and_leaves_the_other(tmp_path: Path) -> None:
    with multi_workspace_bot(tmp_path) as bot:
        bot.install("T0PLATFORM")
        bot.install("T0BETA")
        bot.signer("T0PLATFORM").slash_command("U0ALICE", "whoami")
        acme = bot.tenant(ACME)
        assert acme.services.role is not None  # its jobs and schedules run

        assert bot.signer("T0PLATFORM").uninstall_app().status == 200
        assert bot.multi.tenants.wait_stopped()

        assert bot.multi.installations.bot_token(ACME) is None
        assert acme.services.role is None  # its scheduler and job runner stopped
        assert not acme.services.scheduler.is_running
        assert bot.multi.installations.bot_token(BETA) is not None
        bot.emulator.calls.clear()
        bot.signer("T0PLATFORM").slash_command("U0ALICE", "help")
        assert NOT_INSTALLED in _shown(bot, "T0PLATFORM", "U0ALICE")
        assert bot.emulator.calls(team="T0PLATFORM") == []

        bot.signer("T0BETA").slash_command("U0BETTY", "whoami")
        assert bot.emulator.wait_for(lambda: "Betty Beta" in _shown(bot, "T0BETA", "U0BETTY"))
        assert bot.emulator.calls(team="T0BETA")
        # Acme's data is kept for a re-install, which brings it back with a new token.
        assert bot.install("T0PLATFORM").status_code == 200
        assert _known_people(bot, ACME) == {"U0ALICE"}


def test_a_revoked_bot_token_ends_the_install_like_an_uninstall(tmp_path: Path) -> None:
    with multi_workspace_bot(tmp_path) as bot:
        bot.install("T0PLATFORM")
        bot.install("T0BETA")
        assert bot.signer("T0BETA").uninstall_app("tokens_revoked").status == 200
        assert bot.multi.tenants.wait_stopped()
        assert bot.multi.installations.bot_token(BETA) is None
        assert bot.multi.installations.bot_token(ACME) is not None


def test_the_oauth_state_is_single_use_and_bound_to_the_browser(tmp_path: Path) -> None:
    with multi_workspace_bot(tmp_path) as bot, httpx.Client() as browser:
        link = browser.get(f"{bot.base_url}/slack/install", params={"team": "T0BETA"})
        cookie = link.headers["set-cookie"].split(";", 1)[0]
        back = browser.get(link.headers["location"]).headers["location"]

        forged = back.replace("state=", "state=0")
        assert browser.get(forged, headers={"Cookie": cookie}).status_code == 400
        assert browser.get(back).status_code == 400  # another browser: no cookie
        assert bot.multi.installations.bot_token(BETA) is None

        assert browser.get(back, headers={"Cookie": cookie}).status_code == 200
        assert bot.multi.installations.bot_token(BETA) is not None
        # Replayed: the state was consumed (and the code was used).
        assert browser.get(back, headers={"Cookie": cookie}).status_code == 401


def test_an_org_wide_install_serves_its_workspaces_as_the_enterprise(tmp_path: Path) -> None:
    with multi_workspace_bot(tmp_path, extra=(GRID,)) as bot:
        assert bot.install("T0GRIDWS", org_wide=True).status_code == 200
        org = TenantKey("E0GRID", None, org_wide=True)
        assert bot.multi.installations.bot_token(org) is not None
        assert bot.multi.installations.installed() == [org]
        bot.emulator.calls.clear()

        bot.signer("T0GRIDWS").slash_command("U0GRACE", "whoami")
        assert bot.emulator.wait_for(lambda: "Grace Grid" in _shown(bot, "T0GRIDWS", "U0GRACE"))
        assert {c.team for c in bot.emulator.calls()} == {"T0GRIDWS"}
        assert (tmp_path / "bot.e0grid.db").is_file()

        bot.signer("T0GRIDWS").uninstall_app()
        assert bot.multi.tenants.wait_stopped()
        assert bot.multi.installations.installed() == []


def test_a_workspace_may_have_its_own_platform_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Its config reads the key from the environment, as in production (no key file here).
    monkeypatch.setenv("PLATFORM_BOT_SECRET_KEY", SECRET_KEY)
    configs = tmp_path / "workspaces"
    configs.mkdir()
    repo = Path(__file__).resolve().parents[2]
    # Paths in a workspace's config are read from its own directory, as the shared one's.
    (configs / "examples").symlink_to(repo / "examples")
    shared = (repo / "platform.example.yaml").read_text()
    (configs / "T0BETA.yaml").write_text(shared.replace("Acme Platform", "Beta Platform", 1))
    with multi_workspace_bot(tmp_path, workspace_configs=configs) as bot:
        bot.install("T0PLATFORM")
        bot.install("T0BETA")
        bot.signer("T0PLATFORM").slash_command("U0ALICE", "help")
        bot.signer("T0BETA").slash_command("U0BETTY", "help")
        assert "Beta Platform" in _shown(bot, "T0BETA", "U0BETTY")
        assert "Acme Platform" not in _shown(bot, "T0BETA", "U0BETTY")
        assert "Acme Platform" in _shown(bot, "T0PLATFORM", "U0ALICE")


def test_installed_workspaces_start_when_the_bot_starts(tmp_path: Path) -> None:
    slack = Emulator()
    slack.add_workspace(BETA_WORKSPACE)
    with slack:
        with multi_workspace_bot(tmp_path, emulator=slack) as bot:
            bot.install("T0BETA")
        # A restart on the same database: Beta's schedules run again before any request.
        with multi_workspace_bot(tmp_path, emulator=slack) as bot:
            running = bot.multi.tenants.running()
            assert [tenant.key for tenant in running] == [BETA]
            assert running[0].services.scheduler.is_running


def test_on_postgresql_each_workspace_has_its_own_schema(
    tmp_path: Path, empty_postgres_url: str
) -> None:
    with multi_workspace_bot(tmp_path, database_url=empty_postgres_url) as bot:
        bot.install("T0PLATFORM")
        bot.install("T0BETA")
        bot.signer("T0PLATFORM").slash_command("U0ALICE", "whoami")
        bot.signer("T0BETA").slash_command("U0BETTY", "whoami")
        assert bot.emulator.wait_for(
            lambda: (
                "Betty Beta" in _shown(bot, "T0BETA", "U0BETTY")
                and "Alice Admin" in _shown(bot, "T0PLATFORM", "U0ALICE")
            )
        )
        assert _known_people(bot, ACME) == {"U0ALICE"}
        assert _known_people(bot, BETA) == {"U0BETTY"}
        main = bot.multi.installations.store.engine
        with main.connect() as connection:
            people = {
                schema: set(
                    connection.scalars(text(f'SELECT user_id FROM "{schema}".identity_user'))
                )
                for schema in ("public", "tenant_t0platform", "tenant_t0beta")
            }
            versions = connection.scalar(text("SELECT count(*) FROM tenant_t0beta.alembic_version"))
        assert people == {
            "public": set(),
            "tenant_t0platform": {"U0ALICE"},
            "tenant_t0beta": {"U0BETTY"},
        }
        assert versions and versions > 1  # the core's head and each feature's branch head


def _running(bot: MultiBot) -> dict[TenantKey, str | None]:
    return {tenant.key: tenant.services.slack.token for tenant in bot.multi.tenants.running()}


def test_an_install_through_oauth_stores_no_token_in_the_clear(
    tmp_path: Path, empty_postgres_url: str
) -> None:
    with multi_workspace_bot(tmp_path, database_url=empty_postgres_url) as bot:
        bot.install("T0BETA")
        token = bot.emulator.backend_for("T0BETA").bot_token
        assert bot.multi.installations.bot_token(BETA) == token
        with bot.multi.installations.store.engine.connect() as connection:
            rows = connection.execute(text("SELECT * FROM slack_bots")).all()
            rows += connection.execute(text("SELECT * FROM slack_installations")).all()
        stored = " ".join(str(value) for row in rows for value in row)
        assert len(rows) == 2 and "T0BETA" in stored
        assert token not in stored and "xoxb" not in stored


HOUSEKEEPING = "housekeeping-prune-jobs"


def test_an_uninstall_through_one_replica_stops_the_workspace_in_the_other(
    tmp_path: Path, empty_postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with two_replicas(tmp_path, empty_postgres_url) as (one, two):
        one.install("T0PLATFORM")
        one.install("T0BETA")
        two.multi.tenants.reconcile()  # installed through the other replica: started here
        acme = two.tenant(ACME)
        assert set(_running(two)) == {ACME, BETA} and acme.services.role is not None

        assert one.signer("T0PLATFORM").uninstall_app().status == 200
        assert one.multi.tenants.wait_stopped()
        # Before this replica looks again, Acme's scheduled tasks ask the store and skip.
        with caplog.at_level(logging.INFO, logger="bot.core.scheduler"):
            run_task(f"T0PLATFORM/{HOUSEKEEPING}")
            run_task(f"T0BETA/{HOUSEKEEPING}")
        assert f"'{HOUSEKEEPING}' skipped: its gate is closed" in caplog.text
        assert caplog.text.count("skipped") == 1  # Beta's ran

        two.multi.tenants.reconcile()
        assert two.multi.tenants.wait_stopped()
        assert set(_running(two)) == {BETA}
        assert acme.services.role is None and not acme.services.scheduler.is_running


def test_each_replica_follows_uninstalls_and_reinstalls_made_through_another(
    tmp_path: Path, empty_postgres_url: str
) -> None:
    with two_replicas(tmp_path, empty_postgres_url, install_check_seconds=0.1) as (one, two):
        one.install("T0PLATFORM")
        one.install("T0BETA")
        first = one.emulator.backend_for("T0PLATFORM").bot_token
        assert wait_until(lambda: _running(two).get(ACME) == first, timeout=30)
        state = two.emulator.backend_for("T0PLATFORM").state
        two.signer("T0PLATFORM").slash_command("U0ALICE", "help")  # authorized: cached
        assert two.emulator.wait_for(lambda: len(state.ephemerals("U0ALICE")) == 1)

        one.signer("T0PLATFORM").uninstall_app()
        assert wait_until(lambda: set(_running(two)) == {BETA}, timeout=30)

        one.install("T0PLATFORM")  # again: a new token
        again = one.emulator.backend_for("T0PLATFORM").bot_token
        assert again != first
        assert wait_until(lambda: _running(two).get(ACME) == again, timeout=30)
        assert two.multi.tenants.wait_stopped()
        # Answered with the new token at once, not the revoked one the cache held.
        two.emulator.calls.clear()
        two.signer("T0PLATFORM").slash_command("U0ALICE", "help")
        assert two.emulator.wait_for(lambda: len(state.ephemerals("U0ALICE")) == 2)
        assert all("/platform help" in shown.text for shown in state.ephemerals("U0ALICE"))
        assert [call.error for call in two.emulator.calls()] == [None] * len(two.emulator.calls())


def test_a_workspace_token_is_checked_with_slack_once_not_on_every_request(
    tmp_path: Path,
) -> None:
    with multi_workspace_bot(tmp_path) as bot:
        bot.install("T0BETA")
        bot.emulator.calls.clear()
        for _ in range(3):
            assert bot.signer("T0BETA").slash_command("U0BETTY", "help").status == 200
        state = bot.emulator.backend_for("T0BETA").state
        assert bot.emulator.wait_for(lambda: len(state.ephemerals("U0BETTY")) == 3)
        checks = [c for c in bot.emulator.calls(team="T0BETA") if c.method == "auth.test"]
        assert len(checks) == 1
