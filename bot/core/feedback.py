"""What a feature calls when an action it ran has finished: ask the requester for a rating.

Features type against `ActionFeedback` (they may not import each other). The feature that
collects ratings (surveys' CSAT) offers its service in its parts; the runtime attaches it to
the one `FeedbackRelay` every feature gets as `Core.feedback`. Without such a feature, the
relay asks nobody and summarises nothing.

    core.feedback.request(user_id=requester, action="db.create", channel=dm, thread_ts=root)
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class RatingSummary:
    """How an action was rated over a period: answers, requests sent and the mean (1-5)."""

    action: str
    ratings: int
    asked: int
    average: float


class ActionFeedback(Protocol):
    def request(
        self, *, user_id: str, action: str, channel: str, thread_ts: str | None = None
    ) -> bool:
        """Ask for a rating; False when not asked (asked recently, or turned off). Never
        raises for Slack trouble."""
        ...

    def summary(self, *, days: int = 90) -> list[RatingSummary]:
        """Ratings per action over the last `days`, by action name."""
        ...


class FeedbackRelay:
    """The `ActionFeedback` every feature holds; forwards to the provider once attached."""

    def __init__(self) -> None:
        self._provider: ActionFeedback | None = None
        self._lock = threading.Lock()

    def attach(self, provider: ActionFeedback) -> None:
        with self._lock:
            if self._provider is not None:
                raise ValueError("only one feature may collect action feedback")
            self._provider = provider

    def request(
        self, *, user_id: str, action: str, channel: str, thread_ts: str | None = None
    ) -> bool:
        provider = self._provider
        if provider is None:
            return False
        return provider.request(
            user_id=user_id, action=action, channel=channel, thread_ts=thread_ts
        )

    def summary(self, *, days: int = 90) -> list[RatingSummary]:
        provider = self._provider
        return [] if provider is None else provider.summary(days=days)
