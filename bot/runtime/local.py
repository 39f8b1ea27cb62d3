"""The whole bot on one machine with no Slack workspace: the emulator plus the real app.

`platform-bot shell` runs this for people; the Slack-tier tests and the benchmarks use
`local_bot()` to drive the real app over real HTTP with requests signed as Slack signs them.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from pydantic import SecretStr

from bot.core.db import make_engine
from bot.emulator import Emulator, Shell, SlackSigner
from bot.runtime.app import build_app
from bot.runtime.config import PlatformConfig
from bot.runtime.schema import upgrade
from bot.runtime.services import Role, Services, build_services
from bot.runtime.settings import Settings
from bot.runtime.web import BackgroundHttpServer, WebApp

logger = logging.getLogger(__name__)


@dataclass
class LocalBot:
    emulator: Emulator
    services: Services
    app_url: str
    signer: SlackSigner


@contextmanager
def local_bot(
    settings: Settings,
    config: PlatformConfig,
    *,
    emulator: Emulator | None = None,
    background: bool = True,
    build: Callable[..., Services] = build_services,
    role: Role = Role.ALL_IN_ONE,
) -> Iterator[LocalBot]:
    """Start the emulator (unless given), migrate the database, serve the app on loopback.

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
        }
    )
    engine = make_engine(settings.database_url)
    upgrade(engine)
    services = build(settings, config, engine=engine)
    app = build_app(services)
    web = WebApp(
        app,
        engine,
        services.jobs.counts_by_status,
        signing_secret=emulator.signing_secret,
    )
    server = BackgroundHttpServer(web, host="127.0.0.1", port=0)
    server.start()
    if background:
        services.start_background(role)
    app_url = f"http://127.0.0.1:{server.port}/slack/events"
    try:
        yield LocalBot(
            emulator=emulator,
            services=services,
            app_url=app_url,
            signer=SlackSigner(emulator, app_url, emulator.signing_secret),
        )
    finally:
        server.stop()
        # Bolt runs listeners on after the ack: let them finish while their services and
        # Slack are still there, instead of failing later in a thread nobody waits for.
        app.listener_runner.listener_executor.shutdown(wait=True)
        services.close()
        if own_emulator:
            emulator.stop()


def run_shell(settings: Settings, config: PlatformConfig, *, user: str, channel: str) -> int:
    """`platform-bot shell`: a REPL as a chosen user, against the emulator."""
    with local_bot(settings, config) as bot:
        interactive = sys.stdin.isatty()
        if interactive:
            print(
                f"{config.platform.name}, on the local Slack emulator ({bot.emulator.api_url}).",
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
