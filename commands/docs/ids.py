"""Names the feature shares with Slack, the job queue and the policy: one place for each."""

from __future__ import annotations

from enum import StrEnum


class PolicyAction(StrEnum):
    SEARCH = "docs.search"
    REFRESH = "docs.refresh"
    STATS = "docs.stats"
    FEEDBACK = "docs.feedback"
    """Answering "Was this helpful?" (read-only for the policy: anyone who may search)."""


class JobKind(StrEnum):
    REFRESH = "docs.refresh"


class ActionId(StrEnum):
    HELPFUL = "docs_helpful"
    NOT_HELPFUL = "docs_not_helpful"
