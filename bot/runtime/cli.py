"""`platform-bot`: the console script (serve, worker, socket, shell, migrate, check-config,
manifest, audit verify).

Heavy imports happen inside each command, after logging and the metrics mode are set up,
so `--help` and `check-config` stay fast and gunicorn workers get multiprocess metrics.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from pydantic import SecretStr, ValidationError

from bot.runtime.config import ConfigError, PlatformConfig, load_config
from bot.runtime.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from bot.runtime.server import WsgiApp
    from bot.runtime.services import Services

logger = logging.getLogger("platform_bot")

EXIT_CONFIG = 2
EXIT_NOT_READY = 3
EXIT_AUDIT_BROKEN = 1


class StartupError(Exception):
    """Something an operator must fix before the bot can start; shown without a traceback."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:
        print(f"platform-bot: invalid environment:\n{exc}", file=sys.stderr)
        return EXIT_CONFIG
    from bot.runtime.log import configure_logging

    level = settings.log_level
    if args.command == "shell" and "log_level" not in settings.model_fields_set:
        # The shell's terminal is the conversation; routine log lines would drown it.
        level = "WARNING"
    configure_logging(level, settings.log_format)
    try:
        result: int = args.run(args, settings)
    except ConfigError as exc:
        print(f"platform-bot: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except StartupError as exc:
        print(f"platform-bot: {exc}", file=sys.stderr)
        return EXIT_NOT_READY
    except KeyboardInterrupt:
        return 130
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="platform-bot",
        description="Self-service for your internal developer platform, in Slack.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="serve Slack over HTTP (production)")
    serve.add_argument("--host", default="0.0.0.0", help="address to bind (default 0.0.0.0)")
    serve.add_argument("--port", type=int, default=3000, help="port to bind (default 3000)")
    serve.add_argument("--workers", type=int, default=1, help="gunicorn worker processes")
    serve.add_argument("--threads", type=int, default=32, help="threads per worker")
    serve.set_defaults(run=_serve)

    worker = commands.add_parser(
        "worker", help="run jobs and scheduled tasks apart from serve/socket (jobs.run_in)"
    )
    worker.add_argument("--host", default="0.0.0.0", help="probe address (default 0.0.0.0)")
    worker.add_argument(
        "--health-port",
        type=int,
        default=8081,
        help="port of /healthz, /readyz and /metrics (default 8081)",
    )
    worker.set_defaults(run=_worker)

    socket = commands.add_parser("socket", help="connect to Slack over Socket Mode")
    socket.set_defaults(run=_socket)

    shell = commands.add_parser(
        "shell", help="talk to the bot in a terminal, with a local Slack emulator"
    )
    shell.add_argument("--as", dest="user", default="alice", help="user to start as")
    shell.add_argument("--channel", default="general", help="channel to start in")
    shell.add_argument(
        "--transport",
        choices=("http", "socket"),
        default="http",
        help="how the emulator reaches the bot: signed HTTP (default) or Socket Mode",
    )
    shell.set_defaults(run=_shell)

    migrate = commands.add_parser("migrate", help="upgrade the database schema")
    migrate.set_defaults(run=_migrate)

    check = commands.add_parser("check-config", help="validate a platform config file")
    check.add_argument("path", nargs="?", type=Path, help="default: $PLATFORM_CONFIG")
    check.set_defaults(run=_check_config)

    manifest = commands.add_parser("manifest", help="print the Slack app manifest")
    manifest.add_argument("--url", help="public base URL for HTTP mode, e.g. https://bot.acme.io")
    manifest.set_defaults(run=_manifest)

    audit = commands.add_parser("audit", help="check the audit log")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    verify = audit_commands.add_parser(
        "verify", help="check the audit log's hash chain; exit 1 at the first broken record"
    )
    verify.set_defaults(run=_audit_verify)
    return parser


def _check_config(args: argparse.Namespace, settings: Settings) -> int:
    path = args.path or settings.platform_config
    config = load_config(path)
    from bot.core.policy import Policy

    problems = Policy(config).problems()
    if problems:
        print(f"platform-bot: {path}: the policies name undefined subjects:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_CONFIG
    print(
        f"{path}: ok ({len(config.teams)} teams, {len(config.roles)} roles, "
        f"{len(config.policies)} policy rules)"
    )
    return 0


def _manifest(args: argparse.Namespace, _settings: Settings) -> int:
    from bot.runtime.manifest import render_manifest

    if args.url and not args.url.startswith(("https://", "http://")):
        raise StartupError("--url must start with https://")
    sys.stdout.write(render_manifest(args.url))
    return 0


def _migrate(_args: argparse.Namespace, settings: Settings) -> int:
    from bot.core.db import make_engine
    from bot.runtime.schema import upgrade
    from bot.runtime.workspaces import migrate_workspaces, token_key_problem

    if settings.multi_workspace:
        problem = token_key_problem(settings, load_config(settings.platform_config))
        if problem is not None:
            raise StartupError(problem)
    engine = make_engine(settings.database_url)
    try:
        before = upgrade(engine)
        workspaces = migrate_workspaces(settings, engine) if settings.multi_workspace else []
    finally:
        engine.dispose()
    if before.up_to_date:
        print(f"database schema already at {before.describe(before.head)}")
    else:
        print(
            f"database schema upgraded from {before.describe(before.current)} "
            f"to {before.describe(before.head)}"
        )
    if workspaces:
        print(f"the data of {len(workspaces)} installed workspace(s) is at head too")
    return 0


def _audit_verify(_args: argparse.Namespace, settings: Settings) -> int:
    from bot.core.audit_verify import verify_chain
    from bot.core.db import make_engine, make_session_factory
    from bot.runtime.schema import SchemaOutOfDate, require_up_to_date

    engine = make_engine(settings.database_url)
    try:
        require_up_to_date(engine)
        report = verify_chain(make_session_factory(engine))
    except SchemaOutOfDate as exc:
        raise StartupError(str(exc)) from None
    finally:
        engine.dispose()
    if report.broken is not None:
        print(
            f"audit log BROKEN at {report.broken.describe()}; "
            f"{report.checked} records before it are intact",
            file=sys.stderr,
        )
        return EXIT_AUDIT_BROKEN
    print(f"audit log intact: {report.checked} records, head hash {report.head}")
    return 0


def _require(value: SecretStr | None, name: str, mode: str) -> None:
    if value is None or not value.get_secret_value().strip():
        raise StartupError(f"{name} is not set; `platform-bot {mode}` needs it (see README)")


def _check_deployment(settings: Settings, config: PlatformConfig) -> None:
    """Config problems that depend on the deployment (e.g. replicas sharing PostgreSQL, or
    installs in several workspaces)."""
    from sqlalchemy.engine import make_url

    from bot.core.db import normalize_url
    from bot.runtime.config import check_deployment

    if settings.multi_workspace:
        from bot.runtime.workspaces import multi_workspace_problem

        problem = multi_workspace_problem(settings, config)
        if problem is not None:
            raise StartupError(problem)

    backend = make_url(normalize_url(settings.database_url)).get_backend_name()
    check_deployment(settings.platform_config, config, shared_database=backend != "sqlite")


def _start_services(settings: Settings, config: PlatformConfig) -> Services:
    from bot.runtime.services import build_services

    return build_services(settings, config, engine=_migrated_engine(settings))


def _migrated_engine(settings: Settings) -> Engine:
    """The app database's engine, refused (as a StartupError) if its schema is behind."""
    from bot.core.db import make_engine
    from bot.runtime.schema import SchemaOutOfDate, require_up_to_date

    engine = make_engine(settings.database_url)
    try:
        require_up_to_date(engine)
    except SchemaOutOfDate as exc:
        engine.dispose()
        raise StartupError(str(exc)) from None
    return engine


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.multi_workspace:
        _require(settings.slack_bot_token, "SLACK_BOT_TOKEN", "serve")
    _require(settings.slack_signing_secret, "SLACK_SIGNING_SECRET", "serve")
    config = load_config(settings.platform_config)
    _check_deployment(settings, config)
    workers = args.workers
    if settings.database_url.startswith("sqlite") and workers > 1:
        logger.warning("SQLite serves one process; starting 1 worker instead of %d", workers)
        workers = 1
    from bot.runtime.web import prepare_multiprocess_metrics

    prepare_multiprocess_metrics(workers)
    if settings.multi_workspace:
        load_app = _multi_workspace_app(settings, config, threads=args.threads)
    else:
        # Fail before forking workers if the schema is behind; each worker checks again.
        _start_services(settings, config).close()
        load_app = _single_workspace_app(settings, config, threads=args.threads)

    from bot.runtime.server import GunicornServer

    logger.info("serving Slack at http://%s:%d/slack/events", args.host, args.port)
    GunicornServer(
        load_app,
        bind=f"{args.host}:{args.port}",
        workers=workers,
        threads=args.threads,
        log_level=settings.log_level,
    ).run()
    return 0


def _single_workspace_app(
    settings: Settings, config: PlatformConfig, *, threads: int
) -> Callable[[], tuple[WsgiApp, Callable[[], None]]]:
    def load_app() -> tuple[WsgiApp, Callable[[], None]]:
        from bot.runtime.app import build_app
        from bot.runtime.web import WebApp

        services = _start_services(settings, config)
        app = build_app(services, listener_threads=threads)
        services.start_background(serving_role(config))
        assert settings.slack_signing_secret is not None  # checked by _require above
        web = WebApp(
            app,
            services.engine,
            services.jobs.counts_by_status,
            signing_secret=settings.slack_signing_secret.get_secret_value(),
        )
        return web, services.close

    from bot.runtime.services import serving_role

    return load_app


def _multi_workspace_app(
    settings: Settings, config: PlatformConfig, *, threads: int
) -> Callable[[], tuple[WsgiApp, Callable[[], None]]]:
    from bot.core.db import make_engine
    from bot.runtime.schema import SchemaOutOfDate, require_up_to_date
    from bot.runtime.workspaces import multi_workspace_loader

    engine = make_engine(settings.database_url)
    try:
        require_up_to_date(engine)
    except SchemaOutOfDate as exc:
        raise StartupError(str(exc)) from None
    finally:
        engine.dispose()
    return multi_workspace_loader(settings, config, threads=threads)


def _socket(_args: argparse.Namespace, settings: Settings) -> int:
    if settings.multi_workspace:
        raise StartupError(
            "Socket Mode serves the one workspace of SLACK_BOT_TOKEN; an app installed in "
            "several workspaces (SLACK_CLIENT_ID) is served over HTTP: `platform-bot serve`"
        )
    _require(settings.slack_bot_token, "SLACK_BOT_TOKEN", "socket")
    _require(settings.slack_app_token, "SLACK_APP_TOKEN", "socket")
    config = load_config(settings.platform_config)
    _check_deployment(settings, config)
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from bot.runtime.app import build_app
    from bot.runtime.services import serving_role

    services = _start_services(settings, config)
    app = build_app(services)
    services.start_background(serving_role(config))
    assert settings.slack_app_token is not None
    handler = SocketModeHandler(app, app_token=settings.slack_app_token.get_secret_value())
    # A container is stopped with SIGTERM: leave as on Ctrl-C, closing the connection (Slack
    # sends what was not acknowledged to another connection) and the services.
    signal.signal(signal.SIGTERM, _exit_quietly)
    try:
        handler.start()  # type: ignore[no-untyped-call]
    finally:
        handler.client.auto_reconnect_enabled = False
        handler.close()  # type: ignore[no-untyped-call]
        services.close()
        logger.info("socket mode stopped")
    return 0


def _exit_quietly(_signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)


def _worker(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.multi_workspace:
        _require(settings.slack_bot_token, "SLACK_BOT_TOKEN", "worker")
    if not 0 <= args.health_port <= 65535:
        raise StartupError("--health-port must be a port number (0-65535)")
    config = load_config(settings.platform_config)
    _check_deployment(settings, config)
    if config.jobs.workers < 1:
        raise StartupError("jobs.workers is 0 in the platform config: a worker would run no jobs")
    from bot.core.config import JobsRunIn

    if settings.database_url.startswith("sqlite"):
        logger.warning("SQLite: run one worker only (each process on SQLite runs the scheduler)")
    if config.jobs.run_in is not JobsRunIn.WORKERS:
        logger.info("jobs.run_in is %s: serve and socket run jobs too", config.jobs.run_in)
    from contextlib import ExitStack

    from bot.runtime.worker import worker_for

    engine = _migrated_engine(settings)
    with ExitStack() as stack:
        stack.callback(engine.dispose)
        try:
            worker = stack.enter_context(
                worker_for(settings, config, engine, host=args.host, health_port=args.health_port)
            )
        except OSError as exc:
            message = f"cannot listen on port {args.health_port}: {exc.strerror}"
            raise StartupError(message) from None
        worker.run()
    return 0


def _shell(args: argparse.Namespace, settings: Settings) -> int:
    from bot.runtime.local import Transport, run_shell

    config = load_config(settings.platform_config)
    return run_shell(
        settings, config, user=args.user, channel=args.channel, transport=Transport(args.transport)
    )
