"""The front door of a multi-workspace bot: each verified request to its workspace's bot.

`WorkspaceDispatcher.dispatch` takes what the request gate verified and parsed, reads whose
install it belongs to (`TenantKey`: the enterprise for an org-wide install, else the team)
and hands it to that tenant's Bolt App (`bot.runtime.tenants`). Before that it answers what
belongs to no tenant: Slack's URL check, and the two events that end an install
(`app_uninstalled`; `tokens_revoked` naming the bot, or people's user tokens). A request
from a workspace with no install gets a plain answer, never another workspace's bot.

`multi_workspace_web` assembles the whole: stores, OAuth flow, tenants, the WSGI app. The
tokens are sealed with the bot's credential key (`databases.secret_key`, or on SQLite the
key file), the same key that seals database credentials.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import Fernet
from slack_bolt import BoltRequest, BoltResponse
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from bot.core.db import make_engine, normalize_url
from bot.core.slack_ids import InstallEvent
from bot.runtime.app import reread_misread_form
from bot.runtime.config import PlatformConfig, feature_sections, load_config
from bot.runtime.installations import Installations, TenantKey
from bot.runtime.services import Role, Services, build_services, build_slack_client, serving_role
from bot.runtime.settings import Settings
from bot.runtime.tenants import Tenants
from bot.runtime.web import WebApp
from commands.resources.config import DatabasesSection
from commands.resources.credentials import GENERATE_KEY, CredentialBox, credential_box

logger = logging.getLogger(__name__)

NOT_INSTALLED = (
    "Platform Bot is not installed in this workspace (or was removed). "
    "Ask a Slack admin to install it again."
)
UNAVAILABLE = "Platform Bot cannot start for this workspace right now; its admins are told why."
_INSTALL_EVENTS = frozenset(str(event) for event in InstallEvent)
# A tokens_revoked event lists people whose tokens went; more than this is not Slack's.
MAX_REVOKED_USERS = 1000
# How often each process compares its running workspaces with the installation store: the
# longest a workspace uninstalled through another replica keeps its job runner here (its
# scheduled tasks check the store before each run).
INSTALL_CHECK_SECONDS = 30.0


class WorkspaceDispatcher:
    """Routes verified requests to the tenant they belong to (see the module docstring)."""

    def __init__(self, tenants: Tenants, installations: Installations) -> None:
        self._tenants = tenants
        self._installations = installations

    def dispatch(self, request: BoltRequest) -> BoltResponse:
        reread_misread_form(request)
        body = request.body
        if body.get("type") == "url_verification":
            challenge = body.get("challenge")
            return BoltResponse(status=200, body={"challenge": str(challenge)})
        if body.get("ssl_check") == "1":
            return BoltResponse(status=200, body="")
        context = request.context
        key = TenantKey.of(context.enterprise_id, context.team_id, context.is_enterprise_install)
        if key is None:
            logger.info("a request names no workspace this bot can serve")
            return _not_installed(body)
        event = body.get("event") if body.get("type") == "event_callback" else None
        if isinstance(event, dict) and event.get("type") in _INSTALL_EVENTS:
            self._install_ended(key, event)
            return BoltResponse(status=200, body="")
        try:
            tenant = self._tenants.get(key)
        except Exception:
            logger.exception("could not start the bot for %s", key.name)
            return _answer(body, UNAVAILABLE)
        if tenant is None:
            logger.info("a request from %s, where the app is not installed", key.name)
            return _not_installed(body)
        assert tenant.app is not None  # the front door's tenants serve requests
        return tenant.app.dispatch(request)

    def _install_ended(self, key: TenantKey, event: dict[str, Any]) -> None:
        if event.get("type") == InstallEvent.APP_UNINSTALLED:
            self._tenants.uninstall(key)
            return
        tokens = event.get("tokens")
        tokens = tokens if isinstance(tokens, dict) else {}
        bots, people = tokens.get("bot"), tokens.get("oauth")
        if isinstance(bots, list) and bots:
            self._tenants.uninstall(key)
        if isinstance(people, list):
            for user_id in people[:MAX_REVOKED_USERS]:
                if isinstance(user_id, str):
                    self._installations.remove_user(key, user_id)


def _not_installed(body: dict[str, Any]) -> BoltResponse:
    return _answer(body, NOT_INSTALLED)


def _answer(body: dict[str, Any], text: str) -> BoltResponse:
    """A slash command's ack is shown to the person; anything else is acked empty (Slack
    would only retry an event, and an uninstalled app has no one to show a click to)."""
    if "command" in body:
        return BoltResponse(status=200, body=text)
    return BoltResponse(status=200, body="")


@dataclass
class MultiWorkspace:
    installations: Installations
    tenants: Tenants
    web: WebApp

    def close(self) -> None:
        self.tenants.close()


@contextmanager
def multi_workspace_web(
    settings: Settings,
    config: PlatformConfig,
    *,
    engine: Engine,
    build: Callable[..., Services] = build_services,
    listener_threads: int = 32,
    background: bool = True,
    install_check_seconds: float = INSTALL_CHECK_SECONDS,
) -> Iterator[MultiWorkspace]:
    """The WSGI app of a multi-workspace bot on the main database `engine` (at head), with
    every installed tenant started (running jobs unless `jobs.run_in: workers`) and the
    installs watched (`Tenants.watch`); the tenants stop when the context ends."""
    if settings.slack_signing_secret is None:
        raise ValueError("multi-workspace mode needs SLACK_SIGNING_SECRET")
    tenants: Tenants | None = None

    def installed(key: TenantKey) -> None:
        assert tenants is not None
        tenants.installed(key)

    installations = Installations(
        settings,
        engine,
        client=build_slack_client(settings),
        box=token_box(config),
        on_installed=installed,
    )
    tenants = Tenants(
        settings,
        config,
        installations,
        build=build,
        listener_threads=listener_threads,
        background=background,
        role=serving_role(config),
    )
    web = WebApp(
        WorkspaceDispatcher(tenants, installations),
        engine,
        tenants.job_counts,
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        oauth=installations.flow,
    )
    with _running(tenants, installations, background, install_check_seconds):
        yield MultiWorkspace(installations, tenants, web)


@contextmanager
def multi_workspace_worker(
    settings: Settings,
    config: PlatformConfig,
    *,
    engine: Engine,
    build: Callable[..., Services] = build_services,
    install_check_seconds: float = INSTALL_CHECK_SECONDS,
) -> Iterator[Tenants]:
    """`platform-bot worker` for an app installed in several workspaces: every installed
    workspace's jobs (in its own schema, with its own token) and its share of the scheduler
    leadership, following installs and uninstalls; no Slack requests."""
    installations = Installations(
        settings, engine, client=build_slack_client(settings), box=token_box(config)
    )
    tenants = Tenants(settings, config, installations, build=build, role=Role.WORKER)
    with _running(tenants, installations, True, install_check_seconds):
        yield tenants


@contextmanager
def _running(
    tenants: Tenants, installations: Installations, watch: bool, install_check_seconds: float
) -> Iterator[None]:
    try:
        installations.seal_plain_tokens()
        tenants.start_installed()
        if watch:
            tenants.watch(install_check_seconds)
        yield
    finally:
        tenants.close()


def multi_workspace_problem(settings: Settings, config: PlatformConfig) -> str | None:
    """What keeps multi-workspace mode (SLACK_CLIENT_ID/SECRET) from starting, if anything."""
    secret = settings.slack_client_secret
    if not settings.slack_client_id or secret is None or not secret.get_secret_value().strip():
        return "installing in several workspaces needs both SLACK_CLIENT_ID and SLACK_CLIENT_SECRET"
    token = settings.slack_bot_token
    if token is not None and token.get_secret_value().strip():
        return (
            "set either SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID and "
            "SLACK_CLIENT_SECRET (installs through OAuth in several workspaces), not both"
        )
    return token_key_problem(settings, config)


def token_box(config: PlatformConfig) -> CredentialBox:
    """What seals the installs' tokens: the box that seals database credentials."""
    return credential_box(_databases(config))


def _databases(config: PlatformConfig) -> DatabasesSection:
    section = feature_sections(config).get("databases")
    return section if isinstance(section, DatabasesSection) else DatabasesSection()


def token_key_problem(settings: Settings, config: PlatformConfig) -> str | None:
    """Replicas on one PostgreSQL database must all open the tokens any of them sealed."""
    secret_key = _databases(config).secret_key
    if secret_key is None:
        backend = make_url(normalize_url(settings.database_url)).get_backend_name()
        if backend == "sqlite":
            return None  # one process: the key file in databases.data_dir
        return (
            "databases.secret_key is not set: installing in several workspaces seals the "
            "workspaces' tokens with it, and every replica on the PostgreSQL database needs "
            f"the same key. Generate one with\n  {GENERATE_KEY}\nand set "
            "databases.secret_key: ${PLATFORM_BOT_SECRET_KEY}"
        )
    try:
        Fernet(secret_key.get_secret_value().encode())
    except ValueError:
        return f"databases.secret_key is not a Fernet key. Generate one with\n  {GENERATE_KEY}"
    return None


def multi_workspace_loader(
    settings: Settings, config: PlatformConfig, *, threads: int
) -> Callable[[], tuple[WebApp, Callable[[], None]]]:
    """What each gunicorn worker of `serve` loads: the installs in the main database, every
    installed workspace's bot started (its data migrated), the front door routing to them."""

    def load_app() -> tuple[WebApp, Callable[[], None]]:
        stack = ExitStack()
        engine = make_engine(settings.database_url)
        stack.callback(engine.dispose)
        multi = stack.enter_context(
            multi_workspace_web(settings, config, engine=engine, listener_threads=threads)
        )
        return multi.web, stack.close

    return load_app


def migrate_workspaces(settings: Settings, engine: Engine) -> list[str]:
    """`platform-bot migrate`: each installed workspace's own schema (or file) to head, and
    tokens stored before sealing sealed (the caller checked `token_key_problem`)."""
    config = load_config(settings.platform_config)
    installations = Installations(
        settings, engine, client=build_slack_client(settings), box=token_box(config)
    )
    installations.seal_plain_tokens()
    return Tenants(settings, config, installations).migrate_installed()
