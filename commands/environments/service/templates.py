"""Templates → the resources an environment of them has, with their plans and costs.

A template lists its resources (`db: postgres/small`), or names a service's Score file whose
`resources` map to engines (`postgres`, `redis`, `amqp`, …) with the plan `score_plans`
gives per type, or is a Terraform module (one `module` resource; its cost is the
template's). Score files are read and checked when the feature starts, so a broken one is
reported once, naming the field, and never half-used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from commands.environments.config import (
    ORCHESTRATED,
    RESOURCE_KEY,
    EnvironmentsSection,
    TemplateConfig,
)
from commands.environments.drivers.base import ResourceShape
from commands.resources.config import DatabasesSection, Driver
from integrations.provisioning_protocols import PlanLimits
from integrations.score import ScoreError, ScoreWorkload, load_score, plan_resources

MODULE_ENGINE = "terraform"
ORCHESTRATOR_ENGINE = "orchestrator"
ORCHESTRATOR_KEY = "orchestrator"
ORCHESTRATOR_LABELS = {
    Driver.KUBERNETES: "Kubernetes",
    Driver.HUMANITEC: "Humanitec",
    Driver.GITHUB: "GitHub Actions",
}
NOT_PROVISIONED = frozenset({MODULE_ENGINE, ORCHESTRATOR_ENGINE})
"""Rows that stand for a whole module or orchestrator run, not for one provisioned resource."""
MAX_NAME = 20
"""Environment names: `{name}-{key}` must stay a valid resource name (31 characters)."""


class TemplateProblem(ValueError):
    """A template the config describes but the bot cannot use; the message names it."""


@dataclass(frozen=True)
class TemplateResource:
    key: str
    engine: str
    plan: str
    label: str
    monthly_cost: float | None
    tiers: frozenset[str] | None
    """The plan's tiers (None: any, for a Terraform module)."""


@dataclass(frozen=True)
class Template:
    key: str
    config: TemplateConfig
    resources: tuple[TemplateResource, ...]
    workload: ScoreWorkload | None
    document: Mapping[str, Any] | None = None
    """The Score file as written, for orchestrators that deploy it themselves (Humanitec)."""

    @property
    def monthly_cost(self) -> float | None:
        if self.config.driver is not Driver.LOCAL:
            return self.config.monthly_cost
        costs = [r.monthly_cost for r in self.resources if r.monthly_cost is not None]
        return sum(costs) if costs else None

    @property
    def unpriced(self) -> tuple[str, ...]:
        """Resources whose plan has no price: the estimate leaves them out, and says so."""
        return tuple(f"{r.label} {r.plan}" for r in self.resources if r.monthly_cost is None)

    def shapes(self, name: str, databases: DatabasesSection) -> tuple[ResourceShape, ...]:
        """The resources of an environment called `name` made from this template."""
        return tuple(
            ResourceShape(
                key=r.key,
                engine=r.engine,
                plan=r.plan,
                name=f"{name}-{r.key}",
                label=r.label,
                limits=plan_limits(databases, r.engine, r.plan),
            )
            for r in self.resources
        )


def load_templates(
    section: EnvironmentsSection, databases: DatabasesSection, config_dir: Path
) -> dict[str, Template]:
    """Every template, checked against the engines and plans; `TemplateProblem` otherwise."""
    templates = {}
    for key, config in section.templates.items():
        unknown = sorted(set(config.tiers) - set(databases.tiers))
        if unknown:
            raise TemplateProblem(
                f"environments.templates.{key}.tiers: unknown tier(s) {', '.join(unknown)}"
            )
        workload, document = (
            _workload(key, config, config_dir) if config.score is not None else (None, None)
        )
        resources = _resources(key, config, databases, workload)
        for resource in resources:
            # A plan's tiers are a guardrail of their own (no small database in prod).
            outside = sorted(set(config.tiers) - (resource.tiers or set(config.tiers)))
            if outside:
                raise TemplateProblem(
                    f"environments.templates.{key}.tiers: {resource.engine}/{resource.plan} "
                    f"({resource.key}) is not a plan for {', '.join(outside)}"
                )
        templates[key] = Template(key, config, resources, workload, document)
    return templates


def _workload(
    key: str, config: TemplateConfig, config_dir: Path
) -> tuple[ScoreWorkload, Mapping[str, Any]]:
    assert config.score is not None
    path = config.score if config.score.is_absolute() else config_dir / config.score
    try:
        text = path.read_bytes()
        workload = load_score(text)
        # Checked just above: a mapping, within the size and nesting limits.
        return workload, yaml.safe_load(text)
    except OSError as exc:
        raise TemplateProblem(
            f"environments.templates.{key}.score: cannot read {path}: {exc.strerror}"
        ) from None
    except ScoreError as exc:
        raise TemplateProblem(f"environments.templates.{key}.score ({path}): {exc}") from None


def _resources(
    key: str,
    config: TemplateConfig,
    databases: DatabasesSection,
    workload: ScoreWorkload | None,
) -> tuple[TemplateResource, ...]:
    where = f"environments.templates.{key}"
    if config.driver is Driver.TERRAFORM:
        return (TemplateResource("module", MODULE_ENGINE, "module", "Terraform", None, None),)
    if config.driver in ORCHESTRATED:
        label = ORCHESTRATOR_LABELS[config.driver]
        return (TemplateResource(ORCHESTRATOR_KEY, ORCHESTRATOR_ENGINE, "-", label, None, None),)
    wanted: list[tuple[str, str, str]] = config.engine_plans()
    if workload is not None:
        resource_plan = plan_resources(workload)
        if resource_plan.unsupported:
            names = ", ".join(f"{r.name} ({r.type})" for r in resource_plan.unsupported)
            raise TemplateProblem(f"{where}.score: no engine here provides {names}")
        for found in resource_plan.on_engines:
            plan = config.score_plans.get(found.resource.type)
            if plan is None:
                raise TemplateProblem(
                    f"{where}.score_plans: which plan for `{found.resource.type}`?"
                )
            if not RESOURCE_KEY.fullmatch(found.resource.name):
                raise TemplateProblem(
                    f"{where}.score: resource name {found.resource.name!r} must be 1-10 "
                    "characters a-z and 0-9 to name its resource"
                )
            wanted.append((found.resource.name, found.engine, plan))
    return tuple(_resource(where, databases, *entry) for entry in wanted)


def _resource(
    where: str, databases: DatabasesSection, key: str, engine: str, plan: str
) -> TemplateResource:
    for kind, engine_config in databases.engines.items():
        if kind.value == engine:
            plan_config = engine_config.plans.get(plan)
            if plan_config is None:
                raise TemplateProblem(f"{where}.resources.{key}: {engine} has no plan {plan!r}")
            return TemplateResource(
                key,
                engine,
                plan,
                databases.label(engine),
                plan_config.monthly_cost,
                frozenset(plan_config.tiers),
            )
    raise TemplateProblem(f"{where}.resources.{key}: engine {engine!r} is not under databases")


def plan_limits(databases: DatabasesSection, engine: str, plan: str) -> PlanLimits:
    for kind, engine_config in databases.engines.items():
        if kind.value == engine and plan in engine_config.plans:
            config = engine_config.plans[plan]
            return PlanLimits(
                connection_limit=config.connection_limit,
                max_bytes=config.max_bytes,
                max_messages=config.max_messages,
                max_age_seconds=config.max_age_seconds,
            )
    return PlanLimits()


def score_outputs(
    shapes: tuple[ResourceShape, ...], secrets: Mapping[str, str], outputs: Mapping[str, str]
) -> dict[str, dict[str, str | int]]:
    """What Score placeholders may name per resource: `${resources.db.host}`, `.uri`, …"""
    found: dict[str, dict[str, str | int]] = {}
    for shape in shapes:
        host, _, port = outputs.get(f"{shape.key}.host", "").rpartition(":")
        found[shape.key] = {
            "host": host,
            "port": int(port) if port.isdigit() else 0,
            "name": outputs.get(f"{shape.key}.name", ""),
            "username": outputs.get(f"{shape.key}.user", ""),
            "password": secrets.get(f"{shape.key}.password", ""),
            "uri": secrets.get(f"{shape.key}.url", ""),
        }
    return found
