"""The office-hours feature's durable job: the follow-ups of a session that ended."""

from __future__ import annotations

import logging

from bot.core.jobs import JobContext
from surveys.office_hours.service.follow_ups import FollowUpService

logger = logging.getLogger(__name__)


class OfficeHoursFollowUp:
    """The `office_hours.follow_up` job: DM the attendees of an ended session."""

    def __init__(self, follow_ups: FollowUpService) -> None:
        self._follow_ups = follow_ups

    def run(self, ctx: JobContext) -> None:
        self._follow_ups.send(int(ctx.payload["session_id"]))

    def on_failure(self, ctx: JobContext, error_message: str) -> None:
        logger.warning(
            "office hours follow-up for session %s failed: %s",
            ctx.payload.get("session_id"),
            error_message,
        )
