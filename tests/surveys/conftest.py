"""A bot on the emulator with a test clock: the whole app over signed HTTP, driven by hand.

The job runner and scheduler are not started: tests advance `clock`, call the survey tick
(what the leader's scheduled tasks call) and drain the job queue with `run_jobs`, so every
step happens at a known time.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from pydantic import SecretStr

from bot.core.db import make_engine
from bot.emulator import Emulator, SlackSigner
from bot.emulator.workspace import Workspace
from bot.runtime.app import build_app
from bot.runtime.config import PlatformConfig, parse_config
from bot.runtime.schema import upgrade
from bot.runtime.services import Services, build_services
from bot.runtime.settings import Settings
from bot.runtime.web import WebApp
from surveys.csat.service import CsatService
from surveys.nps.feature import NpsServices
from surveys.office_hours.feature import OfficeHoursServices
from tests.clock import Clock


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass(frozen=True)
class Surveys:
    nps: NpsServices
    csat: CsatService
    office_hours: OfficeHoursServices


@dataclass
class SurveyBot:
    emulator: Emulator
    services: Services
    signer: SlackSigner
    clock: Clock

    @property
    def surveys(self) -> Surveys:
        return Surveys(
            nps=self.services.feature("nps"),
            csat=self.services.feature("csat"),
            office_hours=self.services.feature("office-hours"),
        )

    def tick(self) -> None:
        self.surveys.nps.tick()
        self.surveys.office_hours.tick()

    def run_jobs(self) -> int:
        ran = 0
        while self.services.runner.run_once():
            ran += 1
        return ran

    def dm_messages(self, user_id: str) -> list[Any]:
        channel = self.emulator.state.dm_channel(user_id)
        return [] if channel is None else self.emulator.state.messages(channel)


@contextmanager
def survey_bot(
    tmp_path: Path, config_yaml: str, *, workspace: Workspace | None, start: datetime
) -> Iterator[SurveyBot]:
    config: PlatformConfig = parse_config(config_yaml, "test.yaml", {})
    emulator = Emulator(workspace=workspace)
    emulator.start()
    clock = Clock(start)
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'bot.db'}",
        slack_api_url=emulator.api_url,
        slack_bot_token=SecretStr(emulator.bot_token),
        slack_signing_secret=SecretStr(emulator.signing_secret),
    )
    engine = make_engine(settings.database_url)
    upgrade(engine)
    services = build_services(settings, config, engine=engine, clock=clock)
    web = WebApp(
        build_app(services),
        engine,
        services.jobs.counts_by_status,
        signing_secret=emulator.signing_secret,
    )
    server = make_server("127.0.0.1", 0, web, server_class=_Server, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app_url = f"http://127.0.0.1:{server.server_port}/slack/events"
    try:
        yield SurveyBot(
            emulator, services, SlackSigner(emulator, app_url, emulator.signing_secret), clock
        )
    finally:
        server.shutdown()
        server.server_close()
        services.close()
        emulator.stop()
