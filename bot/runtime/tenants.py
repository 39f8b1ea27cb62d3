"""Multi-workspace mode: one bot per installed workspace, composed from the same parts.

Isolation by composition. Each tenant (a workspace, or an Enterprise Grid organisation that
installed the app org-wide; `TenantKey`) gets its own `Services` (core, features, job runner,
scheduler) and its own Bolt App, built the first time a request from it arrives (and at
startup for every tenant already installed, so its schedules run without a request):

- its data in a database of its own: on PostgreSQL the schema `tenant_<id>` of the app
  database (every connection of its engine has `search_path` set to it; Alembic brings it
  to head when the tenant starts), on SQLite the file `<name>.<id>.db` beside the main one;
- its Web API client on its own bot token from the installation store, so everything it
  sends (answers, jobs, scheduled surveys) speaks for that workspace; each request is also
  authorized by Bolt against the installation store;
- its own scheduler leader lock and task namespace, so each tenant has one scheduler
  among the replicas, and its stored schedule calls its own tasks;
- the shared platform config, or `PLATFORM_WORKSPACE_CONFIGS/<id>.yaml` if that file exists.

The main database keeps only the installs and OAuth states (`bot.runtime.installations`).
When a workspace uninstalls the app (`app_uninstalled`, or `tokens_revoked` naming the bot)
its tokens are deleted and its services stopped (its schedules pause); its data is kept for
a re-install, and until then its requests are answered "not installed". The other processes
learn it from the installation store, not from the event: each scheduled task asks the store
before it runs, and every `watch` interval each process stops the tenants whose install is
gone (or restarts those re-installed with a new token) and starts those installed elsewhere.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from psycopg import sql
from slack_bolt import App
from sqlalchemy import Engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, ProgrammingError

from bot.core.db import is_postgres, make_engine, normalize_url
from bot.runtime.app import build_app
from bot.runtime.config import PlatformConfig, load_config
from bot.runtime.installations import Installations, TenantKey
from bot.runtime.schema import upgrade
from bot.runtime.services import Role, Services, build_services, build_slack_client
from bot.runtime.settings import Settings

logger = logging.getLogger(__name__)


def tenant_schema(key: TenantKey) -> str:
    """The PostgreSQL schema of a tenant's data (Slack ids are upper-case letters, digits)."""
    return f"tenant_{key.name.lower()}"


def tenant_database_url(database_url: str, key: TenantKey) -> str:
    """The tenant's database: the same PostgreSQL database (own schema), or its own SQLite
    file beside the main one (an in-memory database stays in memory, one per engine)."""
    url = make_url(normalize_url(database_url))
    if url.get_backend_name() != "sqlite":
        return database_url
    if url.database in (None, "", ":memory:") or url.query.get("uri"):
        return database_url
    path = Path(url.database)
    own = path.with_name(f"{path.stem}.{key.name.lower()}{path.suffix or '.db'}")
    return url.set(database=str(own)).render_as_string(hide_password=False)


def tenant_engine(database_url: str, key: TenantKey) -> tuple[Engine, str | None]:
    """An engine on the tenant's data, and its PostgreSQL schema (None on SQLite)."""
    engine = make_engine(tenant_database_url(database_url, key))
    if not is_postgres(engine):
        return engine, None
    schema = tenant_schema(key)
    # `public` stays on the path for extensions' types and operators (pg_trgm); every table
    # exists in the tenant's schema (migrated before use), which comes first.
    event.listen(engine, "connect", partial(_set_search_path, schema), insert=True)
    with contextlib.suppress(IntegrityError, ProgrammingError), engine.begin() as connection:
        # Two replicas creating it at once: one wins, the other finds it there.
        connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    return engine, schema


def _set_search_path(schema: str, dbapi_connection: Any, _record: Any) -> None:
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True
    with dbapi_connection.cursor() as cursor:
        cursor.execute(sql.SQL("SET search_path TO {}, public").format(sql.Identifier(schema)))
    dbapi_connection.autocommit = autocommit


@dataclass
class Tenant:
    key: TenantKey
    services: Services
    app: App | None
    """Its Bolt App; none in a worker, which serves no Slack requests."""

    def close(self) -> None:
        # Listeners still running after their ack finish while their services are there.
        if self.app is not None:
            self.app.listener_runner.listener_executor.shutdown(wait=True)
        self.services.close()


class Tenants:
    """The running tenants: built on first use from their install, stopped on uninstall.

    `role` is what each tenant's background work is (`Services.start_background`): all of
    it; requests only, in `serve` with `jobs.run_in: workers`; or, in `platform-bot worker`,
    jobs and schedules without a Bolt App."""

    def __init__(
        self,
        settings: Settings,
        config: PlatformConfig,
        installations: Installations,
        *,
        build: Callable[..., Services] = build_services,
        listener_threads: int = 32,
        background: bool = True,
        role: Role = Role.ALL_IN_ONE,
    ) -> None:
        self._settings = settings
        self._role = role
        self._config = config
        self._installations = installations
        self._build_services = build
        self._listener_threads = listener_threads
        self._background = background
        self._lock = threading.Lock()
        self._running: dict[str, Tenant] = {}
        self._closing: list[threading.Thread] = []
        self._watching = threading.Event()
        self._watcher: threading.Thread | None = None

    def get(self, key: TenantKey) -> Tenant | None:
        """The tenant's bot, started now if it is installed but not running; None if not
        installed. Builds are rare (once per tenant and process) and hold the lock."""
        with self._lock:
            tenant = self._running.get(key.name)
            if tenant is None:
                token = self._installations.bot_token(key)
                if token is None:
                    return None
                tenant = self._start(key, token)
                self._running[key.name] = tenant
            return tenant

    def running(self) -> list[Tenant]:
        with self._lock:
            return list(self._running.values())

    def installed(self, key: TenantKey) -> None:
        """A (re-)install was stored: restart the tenant on its new token."""
        self._stop(key, wait=True)
        self.get(key)

    def uninstall(self, key: TenantKey) -> None:
        """Delete the tenant's tokens and stop its services (in the background: Slack waits
        for the event's ack, and running jobs get their grace period)."""
        self._installations.remove(key)
        logger.info("uninstalled from %s: tokens deleted, its schedules stop", key.name)
        self._stop(key, wait=False)

    def start_installed(self) -> None:
        """Start every installed tenant, so each one's scheduled work runs from startup."""
        for key in self._installations.installed():
            try:
                self.get(key)
            except Exception:
                logger.exception("could not start the bot for %s", key.name)

    def reconcile(self) -> None:
        """Match the running tenants to the installation store: stop those uninstalled (or
        re-installed with another token) wherever that happened, start those installed."""
        tokens = self._installations.installed_tokens()
        for tenant in self.running():
            token = tokens.get(tenant.key)
            if token != tenant.services.slack.token:
                reason = "was uninstalled" if token is None else "was installed again"
                logger.info("%s %s: its bot stops here too", tenant.key.name, reason)
                self._stop(tenant.key, wait=False)
                self._installations.forget(tenant.key)
        for key in tokens:
            try:
                self.get(key)
            except Exception:
                logger.exception("could not start the bot for %s", key.name)

    def watch(self, interval_seconds: float) -> None:
        """Reconcile every `interval_seconds` in the background until `close`."""
        if self._watcher is not None:
            raise RuntimeError("the installs are already watched")
        self._watching.clear()
        self._watcher = threading.Thread(
            target=self._watch, args=(interval_seconds,), name="install-watch", daemon=True
        )
        self._watcher.start()

    def _watch(self, interval_seconds: float) -> None:
        while not self._watching.wait(interval_seconds):
            try:
                self.reconcile()
            except Exception:
                # The database may be away for a while: the next round tries again.
                logger.exception("could not compare the running workspaces with their installs")

    def migrate_installed(self) -> list[str]:
        """Bring every installed tenant's schema to head (`platform-bot migrate`)."""
        migrated = []
        for key in self._installations.installed():
            engine, schema = tenant_engine(self._settings.database_url, key)
            try:
                upgrade(engine, schema=schema)
            finally:
                engine.dispose()
            migrated.append(key.name)
        return migrated

    def job_counts(self) -> dict[str, int]:
        """Jobs by status over every running tenant, for /metrics."""
        totals: dict[str, int] = {}
        for tenant in self.running():
            for status, count in tenant.services.jobs.counts_by_status().items():
                totals[status] = totals.get(status, 0) + count
        return totals

    def wait_stopped(self, timeout: float = 30.0) -> bool:
        """Wait for tenants stopped in the background; whether all of them stopped."""
        with self._lock:
            closing, self._closing = self._closing, []
        for thread in closing:
            thread.join(timeout)
        return not any(thread.is_alive() for thread in closing)

    def close(self) -> None:
        self._watching.set()
        if self._watcher is not None:
            self._watcher.join()
            self._watcher = None
        with self._lock:
            tenants, self._running = list(self._running.values()), {}
        for tenant in tenants:
            tenant.close()
        self.wait_stopped()

    def _stop(self, key: TenantKey, *, wait: bool) -> None:
        with self._lock:
            tenant = self._running.pop(key.name, None)
            if tenant is None:
                return
            if not wait:
                thread = threading.Thread(target=tenant.close, name=f"stop-{key.name}", daemon=True)
                self._closing.append(thread)
                thread.start()
                return
        tenant.close()

    def _start(self, key: TenantKey, token: str) -> Tenant:
        settings, config = self._config_for(key)
        engine, schema = tenant_engine(settings.database_url, key)
        try:
            upgrade(engine, schema=schema)
            services = self._build_services(
                settings,
                config,
                engine=engine,
                slack=build_slack_client(settings, token),
                tenant=key.name,
                still_installed=partial(self._installations.is_installed, key),
            )
        except BaseException:
            engine.dispose()
            raise
        app = None
        if self._role is not Role.WORKER:
            app = build_app(
                services,
                listener_threads=self._listener_threads,
                installation_store=self._installations.store,
            )
        if self._background:
            services.start_background(self._role)
        logger.info("started the bot for %s", key.name)
        return Tenant(key, services, app)

    def _config_for(self, key: TenantKey) -> tuple[Settings, PlatformConfig]:
        """The tenant's own platform config if it has one, else the shared one."""
        directory = self._settings.platform_workspace_configs
        if directory is not None:
            path = directory / f"{key.name}.yaml"
            if path.is_file():
                own = self._settings.model_copy(update={"platform_config": path})
                return own, load_config(path)
        return self._settings, self._config
