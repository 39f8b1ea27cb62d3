"""The app's installs in several workspaces: slack-sdk's stores and Bolt's OAuth v2 flow.

In multi-workspace mode (SLACK_CLIENT_ID and SLACK_CLIENT_SECRET set, no SLACK_BOT_TOKEN) a
workspace installs the bot at `GET /slack/install`: the browser gets a one-time OAuth state
(kept in `slack_oauth_states` and in a cookie) and goes to Slack's authorize page; Slack
sends it back to `GET /slack/oauth_redirect` with a code, the state is checked against the
cookie and consumed once, and `oauth.v2.access` exchanges the code for the workspace's bot
token, kept sealed in `slack_bots`/`slack_installations`. All three tables are slack-sdk's own
(`SQLAlchemyInstallationStore`, `SQLAlchemyOAuthStateStore`, hardened in
`bot.runtime.install_store`), declared here on the app's metadata and created by the core
migrations 0013 and 0014, in the main app database.

A tenant is what one install serves: a workspace, or for an Enterprise Grid org-wide install
the whole organisation (`TenantKey`). Every request names its enterprise and team; the
tenant is the enterprise when the request says the install is org-wide, else the team.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from slack_bolt import BoltResponse
from slack_bolt.oauth.callback_options import CallbackOptions, FailureArgs, SuccessArgs
from slack_bolt.oauth.oauth_flow import OAuthFlow
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Engine, desc, select

from bot.core.db import Base
from bot.core.slack_ids import BOT_SCOPES
from bot.runtime.install_store import (
    AUTHORIZE_CACHE_SECONDS,
    BOT_TOKEN_COLUMNS,
    INSTALLATION_TOKEN_COLUMNS,
    PurgingOAuthStateStore,
    SealedInstallationStore,
    widen_token_columns,
)
from bot.runtime.settings import Settings
from bot.runtime.web import INSTALL_PATH, REDIRECT_PATH
from commands.resources.credentials import CredentialBox

logger = logging.getLogger(__name__)

BOTS_TABLE = "slack_bots"
INSTALLATIONS_TABLE = "slack_installations"
OAUTH_STATES_TABLE = "slack_oauth_states"
STATE_EXPIRATION_SECONDS = 600

bots_table = SQLAlchemyInstallationStore.build_bots_table(Base.metadata, BOTS_TABLE)
installations_table = SQLAlchemyInstallationStore.build_installations_table(
    Base.metadata, INSTALLATIONS_TABLE
)
oauth_states_table = SQLAlchemyOAuthStateStore.build_oauth_states_table(
    Base.metadata, OAUTH_STATES_TABLE
)
widen_token_columns(bots_table, BOT_TOKEN_COLUMNS)
widen_token_columns(installations_table, INSTALLATION_TOKEN_COLUMNS)

# Slack's team and enterprise ids: an upper-case letter and digits. Anything else in a
# request is refused before it can name a database schema or file.
_SLACK_ID = re.compile(r"[TE][A-Z0-9]{1,31}")


@dataclass(frozen=True)
class TenantKey:
    """Whose install a request belongs to: an org-wide install's enterprise, else the team."""

    enterprise_id: str | None
    team_id: str | None
    org_wide: bool

    @property
    def name(self) -> str:
        """The tenant's id (a Slack team or enterprise id): names its schema or file."""
        name = self.enterprise_id if self.org_wide else self.team_id
        assert name is not None  # `of` builds no key without it
        return name

    @property
    def store_team_id(self) -> str | None:
        """The team id the installation store keys this install on (none when org-wide)."""
        return None if self.org_wide else self.team_id

    @classmethod
    def of(
        cls, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None
    ) -> TenantKey | None:
        """The key of a request's ids; None when they are missing or not Slack ids."""
        org_wide = bool(is_enterprise_install)
        if enterprise_id is not None and not _SLACK_ID.fullmatch(enterprise_id):
            return None
        if team_id is not None and not _SLACK_ID.fullmatch(team_id):
            return None
        if (org_wide and enterprise_id is None) or (not org_wide and team_id is None):
            return None
        return cls(enterprise_id, None if org_wide else team_id, org_wide)


class Installations:
    """The installation and OAuth state stores in the main database, and the OAuth flow.

    `on_installed` runs after an install is stored (before the browser sees the success
    page), so the tenant starts with its new token at once. `box` seals the tokens.
    """

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        *,
        client: WebClient,
        box: CredentialBox,
        on_installed: Callable[[TenantKey], None] = lambda _key: None,
        cache_seconds: float = AUTHORIZE_CACHE_SECONDS,
    ) -> None:
        if not settings.slack_client_id or settings.slack_client_secret is None:
            raise ValueError("multi-workspace mode needs SLACK_CLIENT_ID and SLACK_CLIENT_SECRET")
        self.client_id = settings.slack_client_id
        self._engine = engine
        self._on_installed = on_installed
        self.store = SealedInstallationStore(
            self.client_id,
            engine,
            box=box,
            bots_table_name=BOTS_TABLE,
            installations_table_name=INSTALLATIONS_TABLE,
            cache_seconds=cache_seconds,
        )
        self.states = PurgingOAuthStateStore(
            STATE_EXPIRATION_SECONDS, engine, logger=logger, table_name=OAUTH_STATES_TABLE
        )
        self.flow = OAuthFlow(
            client=client,
            logger=logger,
            settings=OAuthSettings(
                client_id=self.client_id,
                client_secret=settings.slack_client_secret.get_secret_value(),
                scopes=sorted(BOT_SCOPES),
                user_scopes=[],
                redirect_uri=settings.slack_redirect_uri,
                install_path=INSTALL_PATH,
                # The install link goes straight to Slack's authorize page.
                install_page_rendering_enabled=False,
                redirect_uri_path=REDIRECT_PATH,
                authorization_url=settings.oauth_authorize_url(),
                callback_options=CallbackOptions(success=self._installed, failure=_failed),
                installation_store=self.store,
                installation_store_bot_only=True,
                state_store=self.states,
                state_expiration_seconds=STATE_EXPIRATION_SECONDS,
                logger=logger,
            ),
        )

    def bot_token(self, key: TenantKey) -> str | None:
        """The tenant's bot token now (not from the authorize cache), or None when the app
        is not installed there."""
        bot = self.store.find_bot_now(enterprise_id=key.enterprise_id, team_id=key.store_team_id)
        return None if bot is None else bot.bot_token

    def forget(self, key: TenantKey) -> None:
        """Drop what the authorize cache holds of the tenant (its install changed)."""
        self.store.forget(enterprise_id=key.enterprise_id, team_id=key.store_team_id)

    def remove(self, key: TenantKey) -> None:
        """Forget the tenant's tokens (the app was uninstalled or its bot token revoked)."""
        self.store.delete_bot(enterprise_id=key.enterprise_id, team_id=key.store_team_id)
        self.store.delete_installation(enterprise_id=key.enterprise_id, team_id=key.store_team_id)

    def remove_user(self, key: TenantKey, user_id: str) -> None:
        """Forget one person's user token (a `tokens_revoked` naming them)."""
        self.store.delete_installation(
            enterprise_id=key.enterprise_id, team_id=key.store_team_id, user_id=user_id
        )

    def installed(self) -> list[TenantKey]:
        """Every tenant with a bot token now, for starting their schedules at startup."""
        return sorted(self.installed_tokens(), key=lambda key: key.name)

    def installed_tokens(self) -> dict[TenantKey, str]:
        """Each installed tenant's latest bot token, read now (never from the cache)."""
        columns = bots_table.c
        query = (
            select(
                columns.enterprise_id,
                columns.team_id,
                columns.is_enterprise_install,
                columns.bot_token,
            )
            .where(columns.client_id == self.client_id, columns.bot_token.is_not(None))
            .order_by(desc(columns.installed_at), desc(columns.id))
        )
        with self._engine.connect() as connection:
            rows = connection.execute(query).all()
        tokens: dict[TenantKey, str] = {}
        unreadable: set[TenantKey] = set()
        for enterprise_id, team_id, org_wide, sealed in rows:
            key = TenantKey.of(enterprise_id, team_id, org_wide)
            if key is None or key in tokens or key in unreadable:
                continue  # the newest row of each tenant counts
            try:
                tokens[key] = self.store.open(sealed)
            except ValueError:
                unreadable.add(key)
                logger.error("the bot token of %s cannot be decrypted with this key", key.name)
        return tokens

    def is_installed(self, key: TenantKey) -> bool:
        """Whether the tenant has a bot token now, read from the database (not the cache)."""
        columns = bots_table.c
        query = (
            select(columns.id)
            .where(
                columns.client_id == self.client_id,
                columns.enterprise_id == key.enterprise_id,
                columns.team_id == key.store_team_id,
                columns.bot_token.is_not(None),
            )
            .limit(1)
        )
        with self._engine.connect() as connection:
            return connection.execute(query).first() is not None

    def seal_plain_tokens(self) -> int:
        """Seal tokens a release before sealing stored in the clear (at startup)."""
        return self.store.seal_plain_tokens(
            (
                (bots_table, BOT_TOKEN_COLUMNS),
                (installations_table, INSTALLATION_TOKEN_COLUMNS),
            )
        )

    def _installed(self, args: SuccessArgs) -> BoltResponse:
        installation = args.installation
        key = TenantKey.of(
            installation.enterprise_id,
            installation.team_id,
            installation.is_enterprise_install,
        )
        if key is not None:
            logger.info("installed in %s", key.name)
            self._on_installed(key)
        return args.default.success(args)


def _failed(args: FailureArgs) -> BoltResponse:
    # The reason is one of Bolt's fixed words (invalid_state, invalid_code, …): no secret.
    logger.warning("an install failed: %s", args.reason)
    return args.default.failure(args)
