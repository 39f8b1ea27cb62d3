"""The platform config: one YAML file, validated at startup, documented key by key in README.

Loading never raises a traceback at a user: `load_config` returns the model or raises
`ConfigError`, whose message lists every problem as `file:line: key: what is wrong`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.yaml_source import SourceError, load_yaml
from commands.lookup.config import CatalogSection, OnCallSection
from commands.new_db.config import DatabasesSection
from surveys.config import SurveysSection

SUBJECT_PATTERN = re.compile(r"^(everyone|(role|team|lead|user|usergroup):[^\s:]+)$")
Subject = Annotated[str, Field(pattern=SUBJECT_PATTERN.pattern)]
Member = Annotated[str, Field(min_length=1, description="a Slack user id (U…) or an email")]


class ConfigError(Exception):
    """The platform config cannot be used; the message names every bad key and its line."""

    def __init__(self, path: Path | str, errors: list[SourceError]) -> None:
        self.path = Path(path)
        self.errors = errors
        lines = [error.render(path) for error in errors]
        super().__init__(
            f"invalid platform config ({len(errors)} problem(s)):\n" + "\n".join(lines)
        )


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PlatformSection(_Section):
    name: str = Field(default="Internal Developer Platform", min_length=1, max_length=80)
    docs_url: str | None = None
    support_channel: str | None = Field(default=None, description="where users ask for help")
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone such as Europe/Berlin") from None
        return value


class RoleConfig(_Section):
    members: list[Member] = Field(default_factory=list)
    usergroups: list[str] = Field(default_factory=list, description="usergroup handles")


class TeamConfig(_Section):
    name: str | None = Field(default=None, description="display name; defaults to the key")
    members: list[Member] = Field(default_factory=list)
    leads: list[Member] = Field(default_factory=list)
    usergroup: str | None = Field(default=None, description="usergroup handle with the members")
    channel: str | None = None


class ApprovalConfig(_Section):
    approvers: list[Subject] = Field(min_length=1)
    count: int = Field(default=1, ge=1, le=10, description="distinct approvers needed")
    expires_after_hours: float = Field(default=24, gt=0)
    channel: str | None = Field(default=None, description="where approval requests are posted")


class PolicyRule(_Section):
    action: str = Field(min_length=1, description="an action name or a glob such as `db.*`")
    allow: list[Subject] = Field(min_length=1)
    when: dict[str, str | list[str]] = Field(default_factory=dict)
    approval: ApprovalConfig | None = None
    require_reason: bool = False


class IdentitySection(_Section):
    cache_ttl_seconds: int = Field(default=3600, ge=0)


class JobsSection(_Section):
    workers: int = Field(default=2, ge=0, le=32, description="job-runner threads per process")
    poll_interval_seconds: float = Field(default=1.0, gt=0, le=60)
    max_attempts: int = Field(default=5, ge=1, le=50)
    lease_seconds: int = Field(default=60, ge=5)
    keep_finished_days: int = Field(default=30, ge=1)


class PlatformConfig(_Section):
    platform: PlatformSection = Field(default_factory=PlatformSection)
    roles: dict[str, RoleConfig] = Field(default_factory=dict)
    teams: dict[str, TeamConfig] = Field(default_factory=dict)
    policies: list[PolicyRule] = Field(default_factory=list)
    identity: IdentitySection = Field(default_factory=IdentitySection)
    jobs: JobsSection = Field(default_factory=JobsSection)
    catalog: CatalogSection = Field(default_factory=CatalogSection)
    oncall: OnCallSection = Field(default_factory=OnCallSection)
    databases: DatabasesSection = Field(default_factory=DatabasesSection)
    surveys: SurveysSection = Field(default_factory=SurveysSection)

    @field_validator("teams", "roles")
    @classmethod
    def _slug_keys(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key in value:
            if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,62}", key):
                raise ValueError(f"{key!r} must be lowercase letters, digits, '-' or '_'")
        return value


def load_config(path: Path | str, environ: Mapping[str, str] | None = None) -> PlatformConfig:
    """Read, interpolate and validate the platform config at `path`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(path, [SourceError((), None, f"cannot read: {exc.strerror}")]) from None
    return parse_config(text, path, os.environ if environ is None else environ)


def parse_config(text: str, path: Path | str, environ: Mapping[str, str]) -> PlatformConfig:
    loaded = load_yaml(text, environ)
    errors = list(loaded.errors)
    if loaded.data is not None and not isinstance(loaded.data, dict):
        errors.append(SourceError((), 1, "the config must be a mapping of sections"))
    if errors:
        raise ConfigError(path, errors)
    try:
        return PlatformConfig.model_validate(loaded.data)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            location = tuple(part for part in error["loc"] if isinstance(part, str | int))
            message = _describe(error)
            errors.append(SourceError(location, loaded.line_of(location), message))
        raise ConfigError(path, errors) from None


def _describe(error: Mapping[str, Any]) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown key (check the spelling against README, 'Platform config')"
    if error["type"] == "string_pattern_mismatch" and "everyone" in str(error.get("ctx", "")):
        return (
            f"{error['input']!r} is not a subject: use everyone, role:NAME, team:NAME, "
            "lead:TEAM, user:ID-OR-EMAIL or usergroup:HANDLE"
        )
    return str(error["msg"])
