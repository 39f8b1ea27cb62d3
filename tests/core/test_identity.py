"""Principals come from the directory and the config, cached in process and in the database."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, select

from bot.core.db import SessionFactory
from bot.core.errors import NotFound, Unavailable
from bot.core.identity import IdentityService, IdentityUser
from bot.runtime.config import PlatformConfig
from integrations.fakes import FakeUserDirectory
from integrations.protocols import DirectoryUser
from tests.clock import Clock

CONFIG: dict[str, Any] = {
    "identity": {"cache_ttl_seconds": 600},
    "roles": {
        "admin": {"members": ["Ada@Example.com"]},
        "sre": {"usergroups": ["sre-oncall"]},
    },
    "teams": {
        "payments": {"members": ["UBOB", "carol@example.com"], "leads": ["ada@example.com"]},
        "search": {"usergroup": "search-team"},
        "ghosts": {"members": ["nobody@example.com"]},
    },
    "policies": [{"action": "deploy.*", "allow": ["usergroup:deployers"]}],
}

ADA = DirectoryUser(
    id="UADA", name="ada", real_name="Ada Lovelace", email="ADA@example.com", tz="Europe/London"
)
BOB = DirectoryUser(id="UBOB", name="bob", real_name="", email=None)
CAROL = DirectoryUser(id="UCAROL", name="carol", real_name="Carol", email="carol@example.com")
DAN = DirectoryUser(
    id="UDAN", name="dan", real_name="Dan", email="dan@example.com", is_restricted=True
)


@pytest.fixture
def directory() -> FakeUserDirectory:
    return FakeUserDirectory(
        [ADA, BOB, CAROL, DAN],
        usergroups={
            "sre-oncall": ["UBOB"],
            "search-team": ["UDAN", "UBOB"],
            "deployers": ["UADA"],
            "unreferenced": ["UADA"],
        },
    )


@pytest.fixture
def config() -> PlatformConfig:
    return PlatformConfig.model_validate(CONFIG)


@pytest.fixture
def identity(
    directory: FakeUserDirectory, config: PlatformConfig, sessions: SessionFactory, clock: Clock
) -> IdentityService:
    return IdentityService(directory, config, sessions, clock=clock)


@pytest.fixture
def statements(engine: Engine) -> Iterator[list[str]]:
    """SQL statements the engine runs while the test does."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(args[2])

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def test_principal_combines_profile_config_and_usergroups(identity: IdentityService) -> None:
    ada = identity.principal("UADA")
    assert (ada.user_id, ada.name, ada.email, ada.tz) == (
        "UADA",
        "Ada Lovelace",
        "ada@example.com",
        "Europe/London",
    )
    # Listed by email in another case: a lead of payments (and so a member), and admin.
    assert ada.lead_of == {"payments"} and ada.teams == {"payments"}
    assert ada.roles == {"admin"}
    # Only handles the config refers to are reported.
    assert ada.usergroups == {"deployers"}
    assert not (ada.is_guest or ada.is_bot or ada.deleted or ada.stale)

    bob = identity.principal("UBOB")
    assert bob.name == "bob"
    assert bob.teams == {"payments", "search"} and bob.roles == {"sre"} and not bob.lead_of

    dan = identity.principal("UDAN")
    assert dan.is_guest and dan.teams == {"search"}


def test_a_cache_hit_touches_neither_slack_nor_the_database(
    identity: IdentityService, directory: FakeUserDirectory, statements: list[str]
) -> None:
    first = identity.principal("UADA")
    calls, queries = directory.calls.copy(), len(statements)
    assert identity.principal("UADA") is first
    assert directory.calls == calls and len(statements) == queries


def test_entries_expire_after_the_configured_ttl(
    identity: IdentityService, directory: FakeUserDirectory, clock: Clock
) -> None:
    identity.principal("UADA")
    directory.add(DirectoryUser(id="UADA", name="ada", real_name="Ada King", email=ADA.email))
    clock.advance(seconds=599)
    assert identity.principal("UADA").name == "Ada Lovelace"
    clock.advance(seconds=2)
    assert identity.principal("UADA").name == "Ada King"
    assert directory.calls["user"] == 2


def test_a_restart_reads_stored_users_instead_of_refetching(
    identity: IdentityService,
    directory: FakeUserDirectory,
    config: PlatformConfig,
    sessions: SessionFactory,
    clock: Clock,
) -> None:
    identity.principal("UADA")
    restarted = IdentityService(directory, config, sessions, clock=clock)
    clock.advance(seconds=60)
    assert restarted.principal("UADA").name == "Ada Lovelace"
    assert directory.calls["user"] == 1
    with sessions() as session:
        row = session.scalars(select(IdentityUser)).one()
    assert (row.user_id, row.email) == ("UADA", "ada@example.com")
    assert row.fetched_at == clock.now - timedelta(seconds=60)


def test_when_slack_is_down_the_stored_profile_is_used_and_marked_stale(
    identity: IdentityService,
    directory: FakeUserDirectory,
    config: PlatformConfig,
    sessions: SessionFactory,
    clock: Clock,
) -> None:
    identity.principal("UADA")
    clock.advance(hours=2)
    directory.available = False
    restarted = IdentityService(directory, config, sessions, clock=clock)
    ada = restarted.principal("UADA")
    assert ada.stale and ada.name == "Ada Lovelace" and ada.roles == {"admin"}
    # Usergroups were never fetched by this process, so they grant nothing while Slack is down.
    assert ada.usergroups == frozenset()
    # Once Slack is back, the stale answer is replaced within a minute.
    directory.available = True
    clock.advance(seconds=61)
    ada = restarted.principal("UADA")
    assert not ada.stale and ada.usergroups == {"deployers"}


def test_an_unknown_user_is_not_found_and_an_unreachable_slack_is_unavailable(
    identity: IdentityService, directory: FakeUserDirectory
) -> None:
    with pytest.raises(NotFound, match="UNOPE"):
        identity.principal("UNOPE")
    directory.available = False
    with pytest.raises(Unavailable, match="try again"):
        identity.principal("UBOB")


def test_user_for_email_is_case_insensitive_and_remembers_misses(
    identity: IdentityService, directory: FakeUserDirectory
) -> None:
    assert identity.user_for_email(" Carol@Example.COM ") == "UCAROL"
    assert identity.user_for_email("nobody@example.com") is None
    assert identity.user_for_email("NOBODY@example.com") is None
    assert directory.calls["user_by_email"] == 2
    # A known user is answered from the stored row even when Slack is down.
    directory.available = False
    restarted_cache_miss = identity.user_for_email("carol@example.com")
    assert restarted_cache_miss == "UCAROL"


def test_team_members_resolve_emails_and_usergroups(identity: IdentityService) -> None:
    assert identity.team_members("payments") == ["UBOB", "UCAROL", "UADA"]
    assert identity.team_leads("payments") == ["UADA"]
    assert identity.team_members("search") == ["UDAN", "UBOB"]
    # An email no Slack user has is skipped rather than failing the whole team.
    assert identity.team_members("ghosts") == []


def test_role_and_usergroup_members_resolve_emails_and_groups(identity: IdentityService) -> None:
    assert identity.role_members("admin") == ["UADA"]  # listed by email
    assert identity.role_members("sre") == ["UBOB"]  # through its usergroup
    assert identity.role_members("auditor") == []  # no such role
    assert identity.usergroup_members("sre-oncall") == ["UBOB"]


def test_an_unknown_team_is_not_found_with_suggestions(identity: IdentityService) -> None:
    with pytest.raises(NotFound) as raised:
        identity.team_members("payment")
    assert raised.value.suggestions == ["payments"]


def test_invalidate_makes_every_replica_refetch(
    identity: IdentityService,
    directory: FakeUserDirectory,
    config: PlatformConfig,
    sessions: SessionFactory,
    clock: Clock,
) -> None:
    identity.principal("UADA")
    directory.add(
        DirectoryUser(id="UADA", name="ada", real_name="Ada", email=ADA.email, deleted=True)
    )
    identity.invalidate("UADA")
    assert identity.principal("UADA").deleted
    # Another replica, missing its own cache, does not trust the invalidated row.
    other = IdentityService(directory, config, sessions, clock=clock)
    identity.invalidate("UADA")
    assert other.principal("UADA").deleted
    assert directory.calls["user"] == 3


def test_the_cache_is_bounded(
    directory: FakeUserDirectory,
    config: PlatformConfig,
    sessions: SessionFactory,
    clock: Clock,
    statements: list[str],
) -> None:
    identity = IdentityService(directory, config, sessions, clock=clock, max_cached=2)
    for user_id in ["UADA", "UBOB", "UCAROL"]:
        identity.principal(user_id)
    before = len(statements)
    identity.principal("UCAROL")
    assert len(statements) == before
    identity.principal("UADA")  # evicted: read back from its row
    assert len(statements) > before
    assert directory.calls["user"] == 3


def test_concurrent_lookups_agree(identity: IdentityService) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        found = list(pool.map(identity.principal, ["UADA", "UBOB"] * 50))
    assert {principal.user_id for principal in found} == {"UADA", "UBOB"}
    assert all(p == found[0] for p in found[::2]) and all(p == found[1] for p in found[1::2])
