"""The core's part of the platform config: platform, roles, teams, policies, identity, jobs.

Policy and identity take a `CoreConfig`; each feature validates its own section, and the
runtime assembles `PlatformConfig` (this model plus every feature's section) from the
feature list. This module imports nothing but pydantic.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator

SUBJECT_PATTERN = re.compile(r"^(everyone|(role|team|lead|user|usergroup):[^\s:]+)$")
Subject = Annotated[str, Field(pattern=SUBJECT_PATTERN.pattern)]
Member = Annotated[str, Field(min_length=1, description="a Slack user id (U…) or an email")]


class Section(BaseModel):
    """A config section: unknown keys are errors, values are frozen once loaded, and no
    number is NaN or infinite (YAML's `.nan` and `.inf` are floats)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class PlatformSection(Section):
    name: str = Field(default="Internal Developer Platform", min_length=1, max_length=80)
    docs_url: str | None = None
    support_channel: str | None = Field(default=None, description="where users ask for help")
    timezone: ZoneInfo = Field(default=ZoneInfo("UTC"), description="an IANA zone: Europe/Berlin")


class RoleConfig(Section):
    members: list[Member] = Field(default_factory=list)
    usergroups: list[str] = Field(default_factory=list, description="usergroup handles")


class TeamConfig(Section):
    name: str | None = Field(default=None, description="display name; defaults to the key")
    members: list[Member] = Field(default_factory=list)
    leads: list[Member] = Field(default_factory=list)
    usergroup: str | None = Field(default=None, description="usergroup handle with the members")
    channel: str | None = None


class ApprovalConfig(Section):
    approvers: list[Subject] = Field(min_length=1)
    count: int = Field(default=1, ge=1, le=10, description="distinct approvers needed")
    expires_after_hours: float = Field(default=24, gt=0, le=8760)
    channel: str | None = Field(default=None, description="where approval requests are posted")


class PolicyRule(Section):
    action: str = Field(min_length=1, description="an action name or a glob such as `db.*`")
    allow: list[Subject] = Field(min_length=1)
    when: dict[str, str | list[str]] = Field(default_factory=dict)
    approval: ApprovalConfig | None = None
    require_reason: bool = False


class IdentitySection(Section):
    cache_ttl_seconds: int = Field(default=3600, ge=0)


class JobsRunIn(StrEnum):
    """Where durable jobs and the scheduler run."""

    PROCESS = "process"
    """In every process that serves Slack, too: one process is the whole bot (the default)."""
    WORKERS = "workers"
    """Only in `platform-bot worker` processes; `serve` and `socket` ack and enqueue."""


class JobsSection(Section):
    run_in: JobsRunIn = Field(
        default=JobsRunIn.PROCESS, description="process (all in one) or workers"
    )
    workers: int = Field(default=2, ge=0, le=32, description="job-runner threads per process")
    poll_interval_seconds: float = Field(default=1.0, gt=0, le=60)
    max_attempts: int = Field(default=5, ge=1, le=50)
    lease_seconds: int = Field(default=60, ge=5)
    keep_finished_days: int = Field(default=30, ge=1)
    stop_grace_seconds: float = Field(
        default=15,
        ge=0,
        le=3600,
        description="on shutdown, how long running jobs may finish before they are given back",
    )


class CoreConfig(Section):
    platform: PlatformSection = Field(default_factory=PlatformSection)
    roles: dict[str, RoleConfig] = Field(default_factory=dict)
    teams: dict[str, TeamConfig] = Field(default_factory=dict)
    policies: list[PolicyRule] = Field(default_factory=list)
    identity: IdentitySection = Field(default_factory=IdentitySection)
    jobs: JobsSection = Field(default_factory=JobsSection)

    @field_validator("teams", "roles")
    @classmethod
    def _slug_keys(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key in value:
            if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,62}", key):
                raise ValueError(f"{key!r} must be lowercase letters, digits, '-' or '_'")
        return value
