"""Action CSAT: a 1-5 rating in the result thread of a platform action (see service.py)."""

from __future__ import annotations

from slack_bolt import App

from surveys.csat.handlers import CsatHandlers
from surveys.csat.ids import RATE_PATTERN
from surveys.csat.service import CsatService


def register(app: App, *, service: CsatService) -> None:
    handlers = CsatHandlers(service)
    app.action(RATE_PATTERN)(handlers.handle_rate)
