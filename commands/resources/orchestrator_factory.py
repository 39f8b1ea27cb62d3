"""The orchestrator a template or an engine names, built from its validated settings.

The drivers in `integrations/orchestrators/` take plain dataclasses; this is the one place
the platform config's settings (orchestrators.py) become those, with paths read relative to
the config's directory and tokens read out of their `SecretStr`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from commands.resources.orchestrators import GitHubDriver, HumanitecDriver, KubernetesDriver
from integrations.orchestrators.base import Orchestrator

DriverSettings = KubernetesDriver | HumanitecDriver | GitHubDriver
Closers = list[Callable[[], None]]


def build_orchestrator(
    settings: DriverSettings, config_dir: Path, closers: Closers
) -> Orchestrator:
    """The orchestrator for `settings`; what it opens is closed with the process."""
    if isinstance(settings, HumanitecDriver):
        return _humanitec(settings, closers)
    if isinstance(settings, KubernetesDriver):
        return _kubernetes(settings, config_dir, closers)
    return _github(settings, closers)


def _humanitec(settings: HumanitecDriver, closers: Closers) -> Orchestrator:
    from integrations.orchestrators.humanitec import HumanitecConfig, HumanitecOrchestrator

    orchestrator = HumanitecOrchestrator(
        HumanitecConfig(
            org_id=settings.org,
            app_id=settings.app,
            base_env=settings.base_env,
            env_types=dict(settings.env_types),
            token=settings.token.get_secret_value(),
            api_url=settings.api_url,
            poll_interval_seconds=settings.waiting.poll_seconds,
        )
    )
    closers.append(orchestrator.close)
    return orchestrator


def _kubernetes(settings: KubernetesDriver, config_dir: Path, closers: Closers) -> Orchestrator:
    raise NotImplementedError


def _github(settings: GitHubDriver, closers: Closers) -> Orchestrator:
    raise NotImplementedError
