"""The `databases:` section of the platform config: engines, plans, tiers, quotas, Vault.

The runtime validates it as part of the platform config (the feature declares it in
feature.py), so `check-config` reports every key with its line.
"""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator

from bot.core.config import Section
from commands.resources.orchestrators import GitHubDriver, KubernetesDriver

_SLUG = re.compile(r"[a-z][a-z0-9_-]{0,30}")
_HTTP_URL = re.compile(r"https?://(?P<authority>[^/?#\s]+)(/[^?#\s]*)?")


class EngineKind(StrEnum):
    """The engines a provisioner exists for; an `engines` key must be one of these."""

    POSTGRES = "postgres"
    MARIADB = "mariadb"
    REDIS = "redis"
    RABBITMQ = "rabbitmq"
    NATS = "nats"
    SQLITE = "sqlite"


ENGINE_LABELS = {
    EngineKind.POSTGRES: "PostgreSQL",
    EngineKind.MARIADB: "MariaDB",
    EngineKind.REDIS: "Redis",
    EngineKind.RABBITMQ: "RabbitMQ",
    EngineKind.NATS: "NATS JetStream",
    EngineKind.SQLITE: "SQLite",
}


MAX_MONTHLY_COST = 1_000_000  # per resource; a typo of a few zeros is refused, not shown


class PlanConfig(Section):
    """A size: the limits the provisioner applies, and the tiers that may use it."""

    label: str | None = Field(default=None, max_length=60, description="shown in the modal")
    tiers: list[str] = Field(min_length=1, description="tiers this plan is allowed for")
    connection_limit: int | None = Field(default=None, ge=1, le=10_000)
    max_bytes: int | None = Field(default=None, ge=1)
    max_messages: int | None = Field(default=None, ge=1)
    max_age_seconds: int | None = Field(default=None, ge=1)
    monthly_cost: float | None = Field(
        default=None,
        ge=0,
        le=MAX_MONTHLY_COST,
        description="what one resource of this plan costs a month, in `databases.currency`",
    )


class Driver(StrEnum):
    """How resources are made: the bot's own provisioners (`local`: new-db's engines without
    a `driver`, and environments of resources or Score files), Terraform, or the platform's
    own orchestrator. Audit records of requests name it, so stats can time each."""

    LOCAL = "local"
    TERRAFORM = "terraform"
    KUBERNETES = "kubernetes"
    HUMANITEC = "humanitec"
    GITHUB = "github"


class EngineDriver(StrEnum):
    """The orchestrators a new-db engine may be made by (Humanitec deploys workloads, not
    single resources: it drives environments only)."""

    KUBERNETES = "kubernetes"
    GITHUB = "github"


class EngineConfig(Section):
    """One server the bot provisions on, reached with admin credentials."""

    label: str | None = Field(default=None, description="defaults to the engine's name")
    host: str = "127.0.0.1"
    port: int | None = Field(default=None, ge=1, le=65535, description="the engine's default")
    admin_user: str | None = None
    admin_password: SecretStr | None = Field(default=None, description="use ${VAR}")
    data_dir: Path | None = Field(default=None, description="sqlite: where database files go")
    management_url: str | None = Field(
        default=None,
        max_length=500,
        description="rabbitmq: the management HTTP API; http://{host}:15672",
    )
    plans: dict[str, PlanConfig] = Field(min_length=1)
    driver: EngineDriver | None = Field(
        default=None, description="made by the platform's orchestrator instead of the bot"
    )
    kubernetes: KubernetesDriver | None = Field(default=None, description="driver kubernetes")
    github: GitHubDriver | None = Field(default=None, description="driver github")

    @field_validator("management_url")
    @classmethod
    def _plain_http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        url = _HTTP_URL.fullmatch(value)
        if url is None:
            raise ValueError("must be an http:// or https:// URL such as http://rabbitmq:15672")
        if "@" in url["authority"]:
            # The URL is shown in messages and logs; the login has its own fields.
            raise ValueError("must not contain a login: use admin_user and admin_password")
        return value

    @model_validator(mode="after")
    def _driver_settings(self) -> EngineConfig:
        blocks = [d.value for d in EngineDriver if getattr(self, d.value) is not None]
        wanted = [self.driver.value] if self.driver is not None else []
        if blocks != wanted:
            if self.driver is None:
                raise ValueError(f"`{blocks[0]}:` settings go with driver {blocks[0]}")
            raise ValueError(f"driver {self.driver} needs its `{self.driver}:` settings")
        return self

    @field_validator("plans")
    @classmethod
    def _plan_keys(cls, value: dict[str, PlanConfig]) -> dict[str, PlanConfig]:
        for key in value:
            if not _SLUG.fullmatch(key):
                raise ValueError(f"plan {key!r} must be a lowercase slug")
        return value


MAX_TTL_HOURS = 10 * 365 * 24
"""Ten years: longer than any resource should live without review, and far from overflows."""


class TierConfig(Section):
    """An environment tier. A tier without `max_ttl_hours` keeps its resources until dropped."""

    label: str | None = None
    default_ttl_hours: float | None = Field(default=None, gt=0, le=MAX_TTL_HOURS)
    max_ttl_hours: float | None = Field(default=None, gt=0, le=MAX_TTL_HOURS)

    @model_validator(mode="after")
    def _default_within_max(self) -> TierConfig:
        if (self.default_ttl_hours is None) != (self.max_ttl_hours is None):
            raise ValueError("set both default_ttl_hours and max_ttl_hours, or neither")
        if (
            self.default_ttl_hours is not None
            and self.max_ttl_hours is not None
            and self.default_ttl_hours > self.max_ttl_hours
        ):
            raise ValueError("default_ttl_hours is larger than max_ttl_hours")
        return self

    @property
    def expires(self) -> bool:
        return self.max_ttl_hours is not None


class QuotaConfig(Section):
    """Active resources a team may own per tier; a team entry overrides the default."""

    default: dict[str, int] = Field(default_factory=dict, description="tier → max resources")
    teams: dict[str, dict[str, int]] = Field(default_factory=dict)

    def limit(self, team: str, tier: str) -> int | None:
        override = self.teams.get(team, {})
        if tier in override:
            return override[tier]
        return self.default.get(tier)


class VaultConfig(Section):
    """A Vault-compatible secrets manager (Vault or OpenBao) for the credential hand-off."""

    address: str = Field(min_length=1, description="e.g. http://127.0.0.1:8200")
    token: SecretStr = Field(description="use ${VAR}")
    mount: str = Field(default="secret", description="the KV v2 mount")
    path_template: str = Field(
        default="platform/{team}/{engine}/{name}",
        description="KV path; {team}, {engine}, {name} and {tier} are filled in",
    )
    wrap_ttl_seconds: int = Field(default=900, ge=60, le=7 * 24 * 3600)
    timeout_seconds: float = Field(default=5.0, gt=0, le=60)

    @field_validator("path_template")
    @classmethod
    def _known_fields(cls, value: str) -> str:
        unknown = set(re.findall(r"{(\w*)}", value)) - {"team", "engine", "name", "tier"}
        if unknown:
            raise ValueError(f"unknown placeholder(s): {', '.join(sorted(unknown))}")
        if "{name}" not in value:
            raise ValueError("the path must contain {name}, or resources would share a secret")
        return value


def _default_tiers() -> dict[str, TierConfig]:
    return {
        "dev": TierConfig(default_ttl_hours=72, max_ttl_hours=336),
        "staging": TierConfig(default_ttl_hours=168, max_ttl_hours=720),
        "prod": TierConfig(),
    }


class DatabasesSection(Section):
    """`/platform new-db`: what may be provisioned where, and how credentials are handed over."""

    engines: dict[EngineKind, EngineConfig] = Field(default_factory=dict)
    default_engine: EngineKind | None = Field(default=None, description="preselected in the modal")
    tiers: dict[str, TierConfig] = Field(default_factory=_default_tiers, min_length=1)
    quotas: QuotaConfig = Field(default_factory=QuotaConfig)
    vault: VaultConfig | None = None
    data_dir: Path = Field(
        default=Path("platform-bot-data"),
        description="the credential key file (when secret_key is unset) lives here",
    )
    secret_key: SecretStr | None = Field(
        default=None, description="Fernet key for credentials at rest; use ${VAR}"
    )
    warn_before_hours: float = Field(default=24, gt=0, le=MAX_TTL_HOURS)
    sweep_interval_minutes: float = Field(default=5, gt=0, le=1440)
    provision_attempts: int = Field(default=3, ge=1, le=20)
    currency: str = Field(
        default="USD", pattern=r"^[A-Z]{3}$", description="ISO 4217 code of plan costs"
    )

    @field_validator("secret_key", mode="before")
    @classmethod
    def _empty_key_is_unset(cls, value: object) -> object:
        # `secret_key: ${PLATFORM_BOT_SECRET_KEY:-}` with the variable unset means "no key".
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("tiers")
    @classmethod
    def _tier_keys(cls, value: dict[str, TierConfig]) -> dict[str, TierConfig]:
        for key in value:
            if not _SLUG.fullmatch(key):
                raise ValueError(f"tier {key!r} must be a lowercase slug")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> DatabasesSection:
        problems = []
        for engine, config in self.engines.items():
            for plan, plan_config in config.plans.items():
                unknown = sorted(set(plan_config.tiers) - set(self.tiers))
                if unknown:
                    problems.append(
                        f"engines.{engine}.plans.{plan}.tiers: unknown tier(s) {', '.join(unknown)}"
                    )
            if engine is EngineKind.SQLITE and config.data_dir is None:
                problems.append(f"engines.{engine}.data_dir: required for sqlite")
            if engine is not EngineKind.RABBITMQ and config.management_url is not None:
                problems.append(f"engines.{engine}.management_url: only rabbitmq has one")
        for tier in {*self.quotas.default, *(t for q in self.quotas.teams.values() for t in q)}:
            if tier not in self.tiers:
                problems.append(f"quotas: unknown tier {tier!r}")
        if self.default_engine is not None and self.default_engine not in self.engines:
            problems.append(f"default_engine: {self.default_engine} is not under engines")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def monthly_cost(self, engine: str, plan: str) -> float | None:
        """What one resource of `plan` costs a month, when the config says."""
        for kind, config in self.engines.items():
            if kind.value == engine and plan in config.plans:
                return config.plans[plan].monthly_cost
        return None

    def label(self, engine: str) -> str:
        """The engine's display name, e.g. "PostgreSQL"."""
        for kind, config in self.engines.items():
            if kind.value == engine:
                return config.label or ENGINE_LABELS[kind]
        return engine
