"""The installation store of a multi-workspace bot: sealed tokens, the authorize cache, and
the OAuth states purged once expired; on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.sqlalchemy_utils import normalize_datetime_for_db
from sqlalchemy import Engine, func, select

from bot.runtime.install_store import AUTHORIZE_CACHE_SECONDS, PURGE_STATES_PER_ISSUE
from bot.runtime.installations import (
    Installations,
    TenantKey,
    bots_table,
    installations_table,
    oauth_states_table,
)
from bot.runtime.schema import upgrade
from bot.runtime.services import build_slack_client
from bot.runtime.settings import Settings
from commands.resources.credentials import CredentialBox

BETA = TenantKey(None, "T0BETA", org_wide=False)
KEY = Fernet.generate_key()
# As long as slack-sdk's columns allow (200): the longest token must still fit sealed.
BOT_TOKEN = "xoxb-" + "7" * 195
USER_TOKEN = "xoxp-person-token"
START = datetime(2027, 1, 20, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def engine(empty_engine: Engine) -> Iterator[Engine]:
    upgrade(empty_engine)
    yield empty_engine


def installations(engine: Engine, key: bytes = KEY, clock: Clock | None = None) -> Installations:
    settings = Settings(slack_client_id="1234.5678", slack_client_secret=SecretStr("secret"))
    made = Installations(
        settings, engine, client=build_slack_client(settings), box=CredentialBox(key)
    )
    if clock is not None:
        made.store._clock = clock
    return made


def install(store: Installations, team: str = "T0BETA", token: str = BOT_TOKEN) -> None:
    store.store.save(
        Installation(
            app_id="A0APP",
            team_id=team,
            user_id="U0ADMIN",
            bot_token=token,
            user_token=USER_TOKEN,
            installed_at=datetime.now(UTC).timestamp(),
        )
    )


def test_tokens_are_sealed_in_the_database_and_opened_when_read(engine: Engine) -> None:
    store = installations(engine)
    install(store)
    with engine.connect() as connection:
        stored = [
            *connection.execute(select(bots_table.c.bot_token)).scalars(),
            *connection.execute(
                select(installations_table.c.bot_token, installations_table.c.user_token)
            ).one(),
        ]
    assert len(stored) == 3
    assert all(value.startswith("gAAAAA") for value in stored)
    assert not any(secret in value for value in stored for secret in ("xox", "7777"))
    assert store.bot_token(BETA) == BOT_TOKEN
    found = store.store.find_installation(enterprise_id=None, team_id="T0BETA")
    assert found is not None and found.user_token == USER_TOKEN
    assert store.installed_tokens() == {BETA: BOT_TOKEN}


def test_a_token_another_key_sealed_is_not_installed_and_never_logged(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    install(installations(engine))
    other = installations(engine, key=Fernet.generate_key())
    with caplog.at_level(logging.ERROR):
        assert other.bot_token(BETA) is None
        assert other.installed_tokens() == {}
    assert "T0BETA cannot be decrypted" in caplog.text
    assert "xoxb" not in caplog.text and "gAAAAA" not in caplog.text


def test_the_newest_install_of_a_workspace_holds_its_token(engine: Engine) -> None:
    store = installations(engine)
    install(store, token="xoxb-first")
    install(store, token="xoxb-again")  # a re-install: a newer row
    install(store, team="T0OTHER", token="xoxb-other")
    other = TenantKey(None, "T0OTHER", org_wide=False)
    assert store.installed_tokens() == {BETA: "xoxb-again", other: "xoxb-other"}
    assert store.installed() == [BETA, other]  # by name
    assert store.is_installed(BETA)
    store.remove(BETA)
    assert not store.is_installed(BETA)
    assert store.installed_tokens() == {other: "xoxb-other"}


def _authorized(store: Installations) -> str | None:
    """The token Bolt's authorize finds for Beta (through the cache)."""
    bot = store.store.find_bot(enterprise_id=None, team_id="T0BETA")
    return None if bot is None else bot.bot_token


def test_authorize_reads_a_bot_from_the_cache_until_it_expires(engine: Engine) -> None:
    """Another replica's uninstall is seen here within the cache's time, not later."""
    clock = Clock()
    here, elsewhere = installations(engine, clock=clock), installations(engine)
    install(here)
    assert _authorized(here) == BOT_TOKEN
    elsewhere.remove(BETA)

    clock.now = START + timedelta(seconds=AUTHORIZE_CACHE_SECONDS) - timedelta(microseconds=1)
    assert _authorized(here) == BOT_TOKEN  # cached
    assert here.bot_token(BETA) is None  # what starts a tenant: never cached
    assert not here.is_installed(BETA)  # what scheduled tasks ask: never cached
    clock.now = START + timedelta(seconds=AUTHORIZE_CACHE_SECONDS)
    assert _authorized(here) is None


def test_an_uninstall_or_a_forget_drops_the_cached_bot_at_once(engine: Engine) -> None:
    store = installations(engine, clock=Clock())
    install(store)
    assert _authorized(store) == BOT_TOKEN
    install(installations(engine), token="xoxb-again")  # re-installed through another replica
    assert _authorized(store) == BOT_TOKEN
    store.forget(BETA)
    assert _authorized(store) == "xoxb-again"
    store.remove(BETA)
    assert _authorized(store) is None


def test_a_workspace_not_installed_is_not_cached(engine: Engine) -> None:
    store = installations(engine, clock=Clock())
    assert _authorized(store) is None
    install(store)
    assert _authorized(store) == BOT_TOKEN


def test_tokens_stored_in_the_clear_are_sealed_batch_by_batch(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = SQLAlchemyInstallationStore("1234.5678", engine, "slack_bots", "slack_installations")
    for team in ("T0AAA", "T0BBB", "T0CCC"):
        plain.save(
            Installation(app_id="A0APP", team_id=team, user_id="U0ADMIN", bot_token=f"xoxb-{team}")
        )
    monkeypatch.setattr("bot.runtime.install_store.SEAL_BATCH", 2)
    store = installations(engine)
    assert store.seal_plain_tokens() == 6  # three bots and three installations
    assert store.seal_plain_tokens() == 0
    with engine.connect() as connection:
        stored = [
            *connection.execute(select(bots_table.c.bot_token)).scalars(),
            *connection.execute(select(installations_table.c.bot_token)).scalars(),
        ]
    assert len(stored) == 6 and not any("xoxb" in token for token in stored)
    assert store.bot_token(TenantKey(None, "T0CCC", org_wide=False)) == "xoxb-T0CCC"


def _add_states(engine: Engine, count: int, expire_at: datetime) -> None:
    rows = [
        {
            "state": f"s-{expire_at.timestamp()}-{n}",
            "expire_at": normalize_datetime_for_db(expire_at),
        }
        for n in range(count)
    ]
    with engine.begin() as connection:
        connection.execute(oauth_states_table.insert(), rows)


def _states(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(oauth_states_table)) or 0)


def test_expired_oauth_states_are_purged_a_bounded_number_at_a_time(engine: Engine) -> None:
    store = installations(engine)
    now = datetime.now(UTC)
    _add_states(engine, 3, now - timedelta(hours=1))
    _add_states(engine, 2, now + timedelta(minutes=10))  # links still in a browser
    assert store.states.purge_expired(limit=2) == 2
    assert _states(engine) == 3
    assert store.states.purge_expired(limit=2) == 1
    assert store.states.purge_expired(limit=2) == 0
    assert _states(engine) == 2


def test_issuing_a_state_purges_expired_ones(engine: Engine) -> None:
    store = installations(engine)
    _add_states(engine, PURGE_STATES_PER_ISSUE + 1, datetime.now(UTC) - timedelta(seconds=1))
    state = store.states.issue()
    assert _states(engine) == 2  # the one left over, and the new one
    assert store.states.consume(state)
