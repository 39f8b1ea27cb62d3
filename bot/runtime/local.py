"""The whole bot on one machine with no Slack workspace: the emulator plus the real app.

`platform-bot shell` runs this for people; the Slack-tier tests and the benchmarks use
`local_bot()` to drive the real app over real HTTP with requests signed as Slack signs them,
or over Socket Mode with the app connected to the emulator as `platform-bot socket` connects.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum

from pydantic import SecretStr
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler

from bot.core.db import make_engine
from bot.emulator import Emulator, Shell, SlackSigner
from bot.runtime.app import build_app
from bot.runtime.config import PlatformConfig
from bot.runtime.schema import upgrade
from bot.runtime.services import Role, Services, build_services
from bot.runtime.settings import Settings
from bot.runtime.web import BackgroundHttpServer, WebApp

logger = logging.getLogger(__name__)


class Transport(StrEnum):
    """How the emulator reaches the app: signed HTTP POSTs, or Socket Mode envelopes."""

    HTTP = "http"
    SOCKET = "socket"


@dataclass
class LocalBot:
    emulator: Emulator
    services: Services
    app_url: str
    """Where Slack delivers: the app's request URL, or the Socket Mode link it connected to."""
    signer: SlackSigner


@contextmanager
def local_bot(
    settings: Settings,
    config: PlatformConfig,
    *,
    emulator: Emulator | None = None,
    background: bool = True,
    build: Callable[..., Services] = build_services,
    transport: Transport = Transport.HTTP,
    role: Role = Role.ALL_IN_ONE,
) -> Iterator[LocalBot]:
    """Start the emulator (unless given), migrate the database, serve the app on loopback
    (HTTP) or connect it to the emulator (Socket Mode).

    The shell is always all in one; tests pass `role=Role.REQUESTS` to serve as `serve` does
    beside workers."""
    own_emulator = emulator is None
    if emulator is None:
        specs = settings.platform_bot_specs_dir
        emulator = Emulator(spec_dir=specs if specs.is_dir() else None)
        emulator.start()
    settings = settings.model_copy(
        update={
            "slack_api_url": emulator.api_url,
            "slack_bot_token": SecretStr(emulator.bot_token),
            "slack_signing_secret": SecretStr(emulator.signing_secret),
            "slack_app_token": SecretStr(emulator.app_token),
        }
    )
    engine = make_engine(settings.database_url)
    upgrade(engine)
    services = build(settings, config, engine=engine)
    app = build_app(services)
    serve = (
        _serve_socket(app, emulator)
        if transport is Transport.SOCKET
        else _serve_http(app, services, emulator)
    )
    try:
        with serve as (app_url, signer):
            if background:
                services.start_background(role)
            yield LocalBot(emulator=emulator, services=services, app_url=app_url, signer=signer)
    finally:
        # Bolt runs listeners on after the ack: let them finish while their services and
        # Slack are still there, instead of failing later in a thread nobody waits for.
        app.listener_runner.listener_executor.shutdown(wait=True)
        services.close()
        if own_emulator:
            emulator.stop()


@contextmanager
def _serve_http(
    app: App, services: Services, emulator: Emulator
) -> Iterator[tuple[str, SlackSigner]]:
    web = WebApp(
        app,
        services.engine,
        services.jobs.counts_by_status,
        signing_secret=emulator.signing_secret,
    )
    server = BackgroundHttpServer(web, host="127.0.0.1", port=0)
    server.start()
    app_url = f"http://127.0.0.1:{server.port}/slack/events"
    signer = SlackSigner(emulator, app_url, emulator.signing_secret)
    try:
        yield app_url, signer
    finally:
        server.stop()
        signer.close()


@contextmanager
def _serve_socket(app: App, emulator: Emulator) -> Iterator[tuple[str, SlackSigner]]:
    """The app connects as `platform-bot socket` does, with Bolt's SocketModeHandler."""
    handler = SocketModeHandler(app, app_token=emulator.app_token)
    opened = emulator.socket_mode.connections_opened
    handler.connect()  # type: ignore[no-untyped-call]
    try:
        if not emulator.socket_mode.wait_for_connection(newer_than=opened, timeout=10):
            raise RuntimeError("the app did not connect to the emulator over Socket Mode")
        yield emulator.socket_mode.url, SlackSigner.over_socket(emulator)
    finally:
        # Closed from the emulator's side first, so the client's reader stops at once
        # instead of waiting out its 3 s receive timeout.
        handler.client.auto_reconnect_enabled = False
        emulator.socket_mode.drop()
        handler.close()  # type: ignore[no-untyped-call]


def run_shell(
    settings: Settings,
    config: PlatformConfig,
    *,
    user: str,
    channel: str,
    transport: Transport = Transport.HTTP,
) -> int:
    """`platform-bot shell`: a REPL as a chosen user, against the emulator."""
    with local_bot(settings, config, transport=transport) as bot:
        interactive = sys.stdin.isatty()
        if interactive:
            print(
                f"{config.platform.name}, on the local Slack emulator ({bot.emulator.api_url}, "
                f"{'Socket Mode' if transport is Transport.SOCKET else 'HTTP'}).",
                flush=True,
            )
        shell = Shell(
            bot.emulator,
            bot.signer,
            user=user,
            channel=channel,
            stdin=sys.stdin,
            stdout=sys.stdout,
            interactive=interactive,
        )
        return shell.run()
