"""A multi-workspace bot over real HTTP with the emulator serving several workspaces.

    with multi_workspace_bot(tmp_path, extra=(BETA,)) as bot:
        bot.install("T0PLATFORM"); bot.install("T0BETA")
        bot.signer("T0BETA").slash_command("U0BETTY", "whoami")

`install` plays the person's browser through the real OAuth flow: the app's install link,
Slack's authorize page (the emulator approves at once), and the redirect back to the app
with the state cookie the install link set.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import httpx
from cryptography.fernet import Fernet
from pydantic import SecretStr

from bot.core.config import JobsRunIn
from bot.core.db import make_engine
from bot.emulator import Emulator, SlackSigner, Workspace
from bot.emulator.workspace import Channel, Enterprise, Team, User
from bot.runtime.config import PlatformConfig, parse_config
from bot.runtime.installations import TenantKey
from bot.runtime.schema import upgrade
from bot.runtime.settings import Settings
from bot.runtime.tenants import Tenant
from bot.runtime.web import BackgroundHttpServer
from bot.runtime.workspaces import INSTALL_CHECK_SECONDS, MultiWorkspace, multi_workspace_web
from tests.conftest import SPECS_DIR
from tests.harness import EXAMPLE_CONFIG

# The key every bot of a test process seals the workspaces' tokens with (replicas share one).
SECRET_KEY = Fernet.generate_key().decode()


@cache
def keyed_config(run_in: JobsRunIn = JobsRunIn.PROCESS) -> PlatformConfig:
    """platform.example.yaml with `databases.secret_key` set (no key file in the checkout),
    jobs run in `run_in`."""
    text = EXAMPLE_CONFIG.read_text().replace("  run_in: process", f"  run_in: {run_in}", 1)
    return parse_config(text, EXAMPLE_CONFIG, {"PLATFORM_BOT_SECRET_KEY": SECRET_KEY})


_BOT = User(id="U0PLATBOT", name="platform-bot", real_name="Platform Bot", is_bot=True)


def workspace(team: str, name: str, person: User, *, enterprise: str | None = None) -> Workspace:
    """A small workspace: one person and the bot in #general."""
    bot = _BOT.model_copy(update={"bot_id": "B0PLATBOT"})
    return Workspace(
        team=Team(id=team, name=name, domain=name.lower()),
        enterprise=None if enterprise is None else Enterprise(id=enterprise, name=f"{name} Org"),
        users=(person, bot),
        channels=(
            Channel(
                id=f"C{team[1:]}GEN", name="general", is_general=True, members=(person.id, bot.id)
            ),
        ),
    )


BETA = workspace(
    "T0BETA",
    "Beta",
    User(id="U0BETTY", name="betty", real_name="Betty Beta", email="betty@beta.example"),
)
GRID = workspace(
    "T0GRIDWS",
    "Grid",
    User(id="U0GRACE", name="grace", real_name="Grace Grid", email="grace@grid.example"),
    enterprise="E0GRID",
)


@dataclass
class MultiBot:
    emulator: Emulator
    multi: MultiWorkspace
    base_url: str
    settings: Settings
    _signers: dict[str, SlackSigner] = field(default_factory=dict)

    @property
    def app_url(self) -> str:
        return f"{self.base_url}/slack/events"

    def signer(self, team: str) -> SlackSigner:
        if team not in self._signers:
            self._signers[team] = SlackSigner(
                self.emulator, self.app_url, self.emulator.signing_secret, team=team
            )
        return self._signers[team]

    def install(self, team: str, *, org_wide: bool = False) -> httpx.Response:
        """The person's browser: install link → Slack's authorize page → back to the app."""
        with httpx.Client(timeout=30) as browser:
            link = browser.get(f"{self.base_url}/slack/install", params={"team": team})
            assert link.status_code == 302, link.text
            # The cookie is Secure (https in production): this browser sends it over http.
            cookie = link.headers["set-cookie"].split(";", 1)[0]
            authorize = link.headers["location"] + ("&org_wide=true" if org_wide else "")
            approved = browser.get(authorize)
            assert approved.status_code == 302, approved.text
            return browser.get(approved.headers["location"], headers={"Cookie": cookie})

    def tenant(self, key: TenantKey) -> Tenant:
        tenant = self.multi.tenants.get(key)
        assert tenant is not None, f"{key.name} is not installed"
        return tenant

    def close(self) -> None:
        for signer in self._signers.values():
            signer.close()


@contextmanager
def multi_workspace_bot(
    directory: Path,
    *,
    extra: tuple[Workspace, ...] = (BETA,),
    database_url: str | None = None,
    workspace_configs: Path | None = None,
    emulator: Emulator | None = None,
    install_check_seconds: float = INSTALL_CHECK_SECONDS,
    config: PlatformConfig | None = None,
) -> Iterator[MultiBot]:
    """The primary emulated workspace (Acme, T0PLATFORM) plus `extra`, none installed yet;
    or the workspaces of a running `emulator` (a bot restarted on the same Slack, or a
    second replica beside the first on the same `database_url`)."""
    running: AbstractContextManager[Emulator] = nullcontext(emulator)  # the caller stops it
    if emulator is None:
        emulator = Emulator(spec_dir=SPECS_DIR if SPECS_DIR.is_dir() else None, rate_limits=None)
        for more in extra:
            emulator.add_workspace(more)
        running = emulator
    with running:
        settings = Settings(
            database_url=database_url or f"sqlite:///{directory / 'bot.db'}",
            platform_config=EXAMPLE_CONFIG,
            platform_bot_specs_dir=SPECS_DIR,
            platform_workspace_configs=workspace_configs,
            slack_api_url=emulator.api_url,
            slack_client_id=emulator.installs.client_id,
            slack_client_secret=SecretStr(emulator.installs.client_secret),
            slack_signing_secret=SecretStr(emulator.signing_secret),
        )
        engine = make_engine(settings.database_url)
        upgrade(engine)
        try:
            with multi_workspace_web(
                settings,
                config or keyed_config(),
                engine=engine,
                install_check_seconds=install_check_seconds,
            ) as multi:
                server = BackgroundHttpServer(multi.web, host="127.0.0.1", port=0)
                server.start()
                base_url = f"http://127.0.0.1:{server.port}"
                emulator.installs.redirect_url = f"{base_url}/slack/oauth_redirect"
                bot = MultiBot(emulator, multi, base_url, settings)
                try:
                    yield bot
                finally:
                    bot.close()
                    server.stop()
        finally:
            engine.dispose()


@contextmanager
def two_replicas(
    directory: Path, database_url: str, *, install_check_seconds: float = INSTALL_CHECK_SECONDS
) -> Iterator[tuple[MultiBot, MultiBot]]:
    """Two replicas on one database and one Slack (Acme and Beta, neither installed yet); the
    second compares its workspaces with the installs every `install_check_seconds`."""
    slack = Emulator()
    slack.add_workspace(BETA)
    with (
        slack,
        multi_workspace_bot(directory / "one", emulator=slack, database_url=database_url) as one,
        multi_workspace_bot(
            directory / "two",
            emulator=slack,
            database_url=database_url,
            install_check_seconds=install_check_seconds,
        ) as two,
    ):
        # Slack sends the browser back to one app URL: the first replica's, so installs made
        # with `one.install` reach the second only through the database.
        slack.installs.redirect_url = f"{one.base_url}/slack/oauth_redirect"
        yield one, two
