"""A bot on the emulator with a test clock: the whole app over signed HTTP, driven by hand.

The job runner and scheduler are not started: tests advance `clock`, call the survey tick
(what the leader's scheduled tasks call) and drain the job queue with `run_jobs`, so every
step happens at a known time.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bot.emulator.workspace import Workspace
from bot.runtime.config import parse_config
from surveys.csat.service import CsatService
from surveys.nps.feature import NpsServices
from surveys.office_hours.feature import OfficeHoursServices
from tests.clock import Clock
from tests.harness import BotHarness, running_bot


@dataclass(frozen=True)
class Surveys:
    nps: NpsServices
    csat: CsatService
    office_hours: OfficeHoursServices


class SurveyBot(BotHarness):
    clock: Clock

    @property
    def surveys(self) -> Surveys:
        return Surveys(
            nps=self.feature("nps"),
            csat=self.feature("csat"),
            office_hours=self.feature("office-hours"),
        )

    def tick(self) -> None:
        """What the leader's scheduled survey tasks do."""
        self.surveys.nps.tick()
        self.surveys.office_hours.tick()


@contextmanager
def survey_bot(
    tmp_path: Path,
    config_yaml: str,
    *,
    workspace: Workspace | None,
    start: datetime,
    schema: Path | None = None,
) -> Iterator[SurveyBot]:
    """The bot on `config_yaml`, its clock at `start`, no background work."""
    with running_bot(
        tmp_path,
        config=parse_config(config_yaml, "test.yaml", {}),
        schema=schema,
        workspace=workspace,
        clock=Clock(start),
        background=False,
    ) as running:
        yield SurveyBot(**vars(running))
