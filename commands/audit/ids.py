"""Names the feature shares with Slack, the job queue and the policy: one place for each."""

from __future__ import annotations

from enum import StrEnum


class PolicyAction(StrEnum):
    READ = "audit.read"
    EXPORT = "audit.export"


class JobKind(StrEnum):
    EXPORT = "audit.export"


class ActionId(StrEnum):
    PAGE_NEWER = "audit_page_newer"
    PAGE_OLDER = "audit_page_older"
