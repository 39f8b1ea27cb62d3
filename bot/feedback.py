"""What a feature calls when an action it ran has finished: ask the requester for a rating.

Features type against `ActionFeedback` (they may not import each other); the composition
root passes the survey feature's `CsatService`, which posts a 1-5 button row in the result
thread at most once per person per `surveys.csat.period_days`.

    feedback.request(user_id=requester, action="db.create", channel=channel, thread_ts=ts)
"""

from __future__ import annotations

from typing import Protocol


class ActionFeedback(Protocol):
    def request(
        self, *, user_id: str, action: str, channel: str, thread_ts: str | None = None
    ) -> bool:
        """Ask for a rating; False when not asked (asked recently, or turned off). Never
        raises for Slack trouble."""
        ...
