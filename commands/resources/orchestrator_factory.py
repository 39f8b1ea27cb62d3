"""The orchestrator a template or an engine names, built from its validated settings.

The drivers in `integrations/orchestrators/` take plain dataclasses; this is the one place
the platform config's settings (orchestrators.py) become those, with paths read relative to
the config's directory and tokens read out of their `SecretStr`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

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
    from integrations.orchestrators.kubernetes import (
        ClusterAccess,
        ConnectionSecret,
        Flavour,
        KubernetesConfig,
        KubernetesOrchestrator,
    )

    def path(value: Path) -> Path:
        return value if value.is_absolute() else config_dir / value

    kubeconfig = path(settings.kubeconfig) if settings.kubeconfig is not None else None
    return KubernetesOrchestrator(
        KubernetesConfig(
            access=ClusterAccess(
                kubeconfig=kubeconfig,
                context=settings.context,
                in_cluster=settings.in_cluster,
                server=settings.api_url,
            ),
            manifest_template=path(settings.manifest).read_text(encoding="utf-8"),
            flavour=Flavour(settings.flavour.value),
            namespace=settings.namespace,
            schema=_crd_schema(path(settings.crd)) if settings.crd is not None else None,
            connection_secret=ConnectionSecret(name=settings.connection_secret or ""),
        )
    )


def _crd_schema(crd: Path) -> Mapping[str, Any]:
    """The `openAPIV3Schema` of a CRD file's served (or first) version."""
    document = yaml.safe_load(crd.read_text(encoding="utf-8"))
    versions = document["spec"]["versions"]
    served = [v for v in versions if v.get("served", True)] or versions
    schema: Mapping[str, Any] = served[0]["schema"]["openAPIV3Schema"]
    return schema


def _github(settings: GitHubDriver, closers: Closers) -> Orchestrator:
    from integrations.orchestrators.github import (
        GitHubActionsConfig,
        GitHubActionsOrchestrator,
        GitHubApp,
    )

    app = None
    if settings.app_id is not None and settings.installation_id is not None:
        assert settings.app_private_key is not None  # the settings require all three
        app = GitHubApp(
            app_id=settings.app_id,
            installation_id=settings.installation_id,
            private_key=settings.app_private_key.get_secret_value(),
        )
    orchestrator = GitHubActionsOrchestrator(
        GitHubActionsConfig(
            repository=settings.repository,
            apply_workflow=settings.workflow,
            destroy_workflow=settings.destroy_workflow,
            ref=settings.ref,
            api_url=settings.api_url,
            token=settings.token.get_secret_value() if settings.token else None,
            app=app,
        )
    )
    closers.append(orchestrator.close)
    return orchestrator
