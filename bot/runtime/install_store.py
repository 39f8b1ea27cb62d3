"""slack-sdk's SQLAlchemy stores, hardened: tokens sealed at rest, bot look-ups cached for a
short time, expired OAuth states purged.

Tokens (bot, user and their refresh tokens) are Fernet-sealed with the bot's credential key
(`databases.secret_key`, or the key file on SQLite: `commands.resources.credentials`) by a
column type on the store's own tables, so every write slack-sdk makes is sealed and every
read opened without copying its queries. Rows written before sealing are sealed in place at
startup (`seal_plain_tokens`).

Bolt's authorize looks up the bot on every request; `find_bot` answers from a per-tenant
cache for `cache_seconds`. Deleting a bot drops its entry at once in this process; another
process may use a removed token until its entry expires (at most `cache_seconds`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.sqlalchemy_utils import normalize_datetime_for_db
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Dialect, Engine, String, Table, or_, select
from sqlalchemy.types import TypeDecorator

from bot.core.ttl_cache import TtlCache
from commands.resources.credentials import CredentialBox

logger = logging.getLogger(__name__)

BOT_TOKEN_COLUMNS = ("bot_token", "bot_refresh_token")
INSTALLATION_TOKEN_COLUMNS = (*BOT_TOKEN_COLUMNS, "user_token", "user_refresh_token")
# A sealed token of slack-sdk's 200 characters is 356 characters of Fernet (base64 of
# version, time, IV, padded ciphertext and MAC); migration 0014 widened the columns to this.
SEALED_TOKEN_LENGTH = 400
# Every Fernet token starts with its version byte 0x80 and a timestamp: "gAAAAA" in base64.
_SEALED_PREFIX = "gAAAAA"
AUTHORIZE_CACHE_SECONDS = 30.0
MAX_CACHED_TENANTS = 10_000
# Expired states removed per new one: more than one install link is issued per abandoned
# one only under attack, and then the table still shrinks by this many per link.
PURGE_STATES_PER_ISSUE = 100
SEAL_BATCH = 500


class SealedToken(TypeDecorator[str]):
    """A token column whose values are sealed on the way in and opened on the way out."""

    impl = String(SEALED_TOKEN_LENGTH)
    # Not cached: a cached statement would keep the first box's processors for every box
    # (the box is no part of the cache key). These queries are few (the cache is in front).
    cache_ok = False

    def __init__(self, box: CredentialBox) -> None:
        super().__init__()
        self._box = box

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else self._box.seal(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else self._box.open(value)


def seal_token_columns(table: Table, columns: tuple[str, ...], box: CredentialBox) -> None:
    """Give `table`'s token `columns` the sealing type (a table slack-sdk built for itself)."""
    for name in columns:
        table.c[name].type = SealedToken(box)


def widen_token_columns(table: Table, columns: tuple[str, ...]) -> None:
    """The app metadata's copy of a slack-sdk table, with room for sealed tokens."""
    for name in columns:
        table.c[name].type = String(SEALED_TOKEN_LENGTH)


class SealedInstallationStore(SQLAlchemyInstallationStore):
    """slack-sdk's installation store with sealed tokens and a short-lived bot cache."""

    def __init__(
        self,
        client_id: str,
        engine: Engine,
        *,
        box: CredentialBox,
        bots_table_name: str,
        installations_table_name: str,
        cache_seconds: float = AUTHORIZE_CACHE_SECONDS,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__(
            client_id,
            engine,
            bots_table_name=bots_table_name,
            installations_table_name=installations_table_name,
            logger=logger,
        )
        seal_token_columns(self.bots, BOT_TOKEN_COLUMNS, box)
        seal_token_columns(self.installations, INSTALLATION_TOKEN_COLUMNS, box)
        self._box = box
        self._cache: TtlCache[Bot] = TtlCache(MAX_CACHED_TENANTS)
        self._cache_for = timedelta(seconds=cache_seconds)
        self._clock = clock

    def find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        """The tenant's latest bot, from the cache while it is fresh (a miss is not kept:
        a new install is seen at once)."""
        if is_enterprise_install or team_id is None:
            team_id = None  # as slack-sdk keys an org-wide install
        key = _cache_key(enterprise_id, team_id)
        now = self._clock()
        cached = self._cache.get(key, now)
        if cached is not None:
            return cached
        bot = self.find_bot_now(enterprise_id=enterprise_id, team_id=team_id)
        if bot is not None:
            self._cache.put(key, bot, now + self._cache_for)
        return bot

    def find_bot_now(self, *, enterprise_id: str | None, team_id: str | None) -> Bot | None:
        """The tenant's latest bot read from the database, not the cache."""
        try:
            bot: Bot | None = super().find_bot(enterprise_id=enterprise_id, team_id=team_id)
        except ValueError:
            # The token does not open with this key (the key was changed): the tenant is
            # treated as not installed, and the operator told why. No token in the message.
            logger.error(
                "the bot token of %s cannot be decrypted with databases.secret_key; "
                "its requests are refused until it is installed again or the key restored",
                enterprise_id if team_id is None else team_id,
            )
            return None
        return bot

    def forget(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """Drop the tenant's cached bot (its install changed elsewhere)."""
        self._cache.pop(_cache_key(enterprise_id, team_id))

    def delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        self._cache.pop(_cache_key(enterprise_id, team_id))
        super().delete_bot(enterprise_id=enterprise_id, team_id=team_id)
        # A lookup that read the row just before the delete may have cached it again.
        self._cache.pop(_cache_key(enterprise_id, team_id))

    def save_bot(self, bot: Bot) -> None:
        super().save_bot(bot)
        self._cache.pop(_cache_key(bot.enterprise_id, bot.team_id))

    def open(self, sealed: str) -> str:
        """A token read from the tables without the sealing type (`Installations.installed`)."""
        return self._box.open(sealed)

    def seal_plain_tokens(self, tables: tuple[tuple[Table, tuple[str, ...]], ...]) -> int:
        """Seal the tokens stored before sealing (in the app metadata's `tables`, whose
        columns read raw); how many rows were rewritten. Safe to run in every process."""
        rewritten = 0
        for table, columns in tables:
            plain = or_(
                *(
                    (table.c[name].is_not(None)) & ~table.c[name].startswith(_SEALED_PREFIX)
                    for name in columns
                )
            )
            query = select(table.c.id, *(table.c[name] for name in columns)).where(plain)
            batch = SEAL_BATCH
            while batch == SEAL_BATCH:  # a short batch was the last
                with self.engine.begin() as connection:
                    rows = connection.execute(query.order_by(table.c.id).limit(SEAL_BATCH)).all()
                    for row in rows:
                        values = {
                            name: _seal_if_plain(self._box, value)
                            for name, value in zip(columns, row[1:], strict=True)
                        }
                        update = table.update().where(table.c.id == row[0]).values(values)
                        connection.execute(update)
                batch = len(rows)
                rewritten += batch
        if rewritten:
            logger.info("sealed the tokens of %d stored install(s)", rewritten)
        return rewritten


def _seal_if_plain(box: CredentialBox, value: Any) -> Any:
    if value is None or str(value).startswith(_SEALED_PREFIX):
        return value
    return box.seal(str(value))


def _cache_key(enterprise_id: str | None, team_id: str | None) -> str:
    return f"{enterprise_id or ''}/{team_id or ''}"


class PurgingOAuthStateStore(SQLAlchemyOAuthStateStore):
    """slack-sdk's OAuth state store that deletes expired states as it issues new ones
    (a link opened and never completed leaves its state behind)."""

    def issue(self, *args: Any, **kwargs: Any) -> str:
        state: str = super().issue(*args, **kwargs)
        self.purge_expired()
        return state

    def purge_expired(self, limit: int = PURGE_STATES_PER_ISSUE) -> int:
        """Delete up to `limit` expired states, the oldest first; how many were deleted."""
        columns = self.oauth_states.c
        now = normalize_datetime_for_db(datetime.now(UTC))
        expired = (
            select(columns.id)
            .where(columns.expire_at <= now)
            .order_by(columns.expire_at)
            .limit(limit)
        )
        with self.engine.begin() as connection:
            ids = list(connection.scalars(expired))
            if ids:
                connection.execute(self.oauth_states.delete().where(columns.id.in_(ids)))
        return len(ids)
