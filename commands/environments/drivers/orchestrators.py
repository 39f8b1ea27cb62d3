"""The orchestrated drivers of the templates that name one (`driver: kubernetes`, …): each
template's orchestrator built once from its settings, the request it is sent, and how long
to wait for it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from bot.core.db import SessionFactory
from commands.environments.config import ORCHESTRATED, TemplateConfig
from commands.environments.drivers.base import EnvDriver, EnvShape
from commands.environments.drivers.orchestrated import OrchestratedDriver, Waiting
from commands.environments.service.templates import Template
from commands.resources.config import Driver
from commands.resources.orchestrator_factory import DriverSettings, build_orchestrator
from commands.resources.orchestrators import OnTimeout
from integrations.orchestrators.base import Orchestrator, OrchestratorRequest


def orchestrated_drivers(
    templates: Mapping[str, Template],
    sessions: SessionFactory,
    config_dir: Path,
    closers: list[Callable[[], None]],
) -> dict[str, EnvDriver]:
    """One driver per orchestrator kind; each template keeps its own orchestrator."""
    built: dict[str, Orchestrator] = {}
    for key, template in templates.items():
        settings = _settings(template.config)
        if settings is not None:
            built[key] = build_orchestrator(settings, config_dir, closers)

    def waiting(env: EnvShape) -> Waiting:
        settings = _settings(env.template)
        assert settings is not None  # only templates with settings reach this driver
        return Waiting(
            poll_seconds=settings.waiting.poll_seconds,
            timeout_seconds=settings.waiting.timeout_minutes * 60,
            keep_on_timeout=settings.waiting.on_timeout is OnTimeout.KEEP,
        )

    def request(env: EnvShape) -> OrchestratorRequest:
        template = templates[env.template_key]
        return OrchestratorRequest(
            name=env.name,
            team=env.team,
            tier=env.tier,
            template=env.template_key,
            parameters={**env.template.variables, **env.inputs},
            workload=template.document,
        )

    driver = OrchestratedDriver(
        sessions=sessions,
        orchestrators=lambda env: built[env.template_key],
        waiting=waiting,
        requests=request,
    )
    return dict.fromkeys(ORCHESTRATED, driver)


def _settings(config: TemplateConfig) -> DriverSettings | None:
    if config.driver not in ORCHESTRATED:
        return None
    settings: DriverSettings | None = getattr(config, Driver(config.driver).value)
    return settings
