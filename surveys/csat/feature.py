"""Action CSAT as a Feature: the 1-5 rating in an action's result thread.

It offers its service to every other feature as `Core.feedback` (see bot/core/feedback.py),
and its ratings per week to `Core.feedback_trends` (bot/core/feedback_trends.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.core.feature import ConfigSection, Core, Listener, ListenerKind, Parts
from surveys.config import SurveysSection
from surveys.csat.handlers import CsatHandlers
from surveys.csat.ids import RATE_PATTERN
from surveys.csat.service import CsatDashboard, CsatService
from surveys.csat.views import CsatMessageBuilder
from surveys.delivery import DmOutbox
from surveys.sections import MIGRATIONS, SURVEYS_SECTION


@dataclass(frozen=True)
class CsatFeature:
    name: str = "csat"
    sections: Sequence[ConfigSection] = (SURVEYS_SECTION,)
    models: str | None = "surveys.csat.models"
    migrations: Path | None = field(default=MIGRATIONS)

    def build(self, core: Core) -> Parts[CsatService]:
        section = core.section(SURVEYS_SECTION.key, SurveysSection)
        service = CsatService(
            sessions=core.sessions,
            config=section.csat,
            outbox=DmOutbox.paced(core.paced_messenger, section.delivery, core.sessions),
            messages=CsatMessageBuilder(),
            clock=core.clock,
        )
        handlers = CsatHandlers(service, core.dashboard.changed)
        return Parts(
            api=service,
            dashboard=CsatDashboard(sessions=core.sessions, config=section.csat, clock=core.clock),
            listeners=[Listener(ListenerKind.ACTION, RATE_PATTERN, handlers.handle_rate)],
            feedback=service,
            csat_weeks=service,
        )


FEATURE = CsatFeature()
