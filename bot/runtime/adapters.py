"""Concrete adapters, built from the platform config: the only place they are constructed.

Everything else sees `integrations.protocols`. The runtime's feature list hands the factories
at the bottom to the features; HTTP clients an adapter opens are closed with the process.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import httpx

from bot.core.feature import Core
from commands.lookup.config import CatalogKind, CatalogSection, OnCallKind, OnCallSection
from commands.resources.config import DatabasesSection, EngineConfig, EngineKind
from commands.resources.orchestrator_factory import build_orchestrator
from commands.stats.config import StatsSection
from integrations.backstage import BackstageCatalog
from integrations.catalog_files import CatalogFiles
from integrations.charts import MatplotlibCharts
from integrations.opsgenie import Opsgenie
from integrations.orchestrators.provisioner import OrchestratedProvisioner
from integrations.orchestrators.waiting import Polling
from integrations.pagerduty import PagerDuty
from integrations.protocols import CatalogProvider, ChartRenderer, OnCallProvider
from integrations.provisioning_protocols import Provisioner, SecretStore
from integrations.rotation import RotationProvider
from surveys.config import SurveysSection


def build_provisioners(
    section: DatabasesSection, http_clients: list[httpx.Client]
) -> dict[str, Provisioner]:
    """One provisioner per configured engine; each client library is imported only if used."""
    return {
        kind: _PROVISIONERS[kind](engine, http_clients)
        for kind, engine in section.engines.items()
        if engine.driver is None  # the others are the orchestrator's (see `provisioners`)
    }


def _admin_password(engine: EngineConfig) -> str:
    return engine.admin_password.get_secret_value() if engine.admin_password else ""


def _postgres(engine: EngineConfig, _http_clients: list[httpx.Client]) -> Provisioner:
    from integrations.provisioning.postgres import PostgresProvisioner

    return PostgresProvisioner(
        host=engine.host,
        port=engine.port or 5432,
        admin_user=engine.admin_user or "postgres",
        admin_password=_admin_password(engine),
    )


def _mariadb(engine: EngineConfig, _http_clients: list[httpx.Client]) -> Provisioner:
    from integrations.provisioning.mariadb import MariaDBProvisioner

    return MariaDBProvisioner(
        host=engine.host,
        port=engine.port or 3306,
        admin_user=engine.admin_user or "root",
        admin_password=_admin_password(engine),
    )


def _redis(engine: EngineConfig, _http_clients: list[httpx.Client]) -> Provisioner:
    from integrations.provisioning.redis import RedisProvisioner

    return RedisProvisioner(
        host=engine.host,
        port=engine.port or 6379,
        admin_user=engine.admin_user,
        admin_password=_admin_password(engine) or None,
    )


def _rabbitmq(engine: EngineConfig, http_clients: list[httpx.Client]) -> Provisioner:
    from integrations.provisioning import rabbitmq

    client = httpx.Client(
        base_url=engine.management_url or rabbitmq.default_management_url(engine.host),
        timeout=rabbitmq.MANAGEMENT_TIMEOUT,
    )
    http_clients.append(client)  # closed by Services.close
    return rabbitmq.RabbitMQProvisioner(
        client,
        admin_user=engine.admin_user or "guest",
        admin_password=_admin_password(engine),
        host=engine.host,
        port=engine.port or 5672,
    )


def _nats(engine: EngineConfig, _http_clients: list[httpx.Client]) -> Provisioner:
    from integrations.provisioning.nats import NatsProvisioner

    return NatsProvisioner(
        host=engine.host,
        port=engine.port or 4222,
        admin_user=engine.admin_user,
        admin_password=_admin_password(engine) or None,
    )


def _sqlite(engine: EngineConfig, _http_clients: list[httpx.Client]) -> Provisioner:
    from integrations.provisioning.sqlite import SqliteProvisioner

    # The config refuses a sqlite engine without data_dir.
    assert engine.data_dir is not None
    return SqliteProvisioner(data_dir=engine.data_dir)


_PROVISIONERS: dict[EngineKind, Callable[[EngineConfig, list[httpx.Client]], Provisioner]] = {
    EngineKind.POSTGRES: _postgres,
    EngineKind.MARIADB: _mariadb,
    EngineKind.REDIS: _redis,
    EngineKind.RABBITMQ: _rabbitmq,
    EngineKind.NATS: _nats,
    EngineKind.SQLITE: _sqlite,
}


def build_secret_store(
    section: DatabasesSection, http_clients: list[httpx.Client]
) -> SecretStore | None:
    """The Vault/OpenBao store for the credential hand-off, from `databases.vault`.

    None when no vault section is configured: that is the one-time reveal mode (credentials
    kept encrypted in the app database until the requester's one Reveal click), not a gap.
    """
    vault = section.vault
    if vault is None:
        return None
    from integrations.vault import VaultSecretStore

    client = httpx.Client(
        base_url=vault.address, timeout=httpx.Timeout(vault.timeout_seconds, connect=3)
    )
    http_clients.append(client)  # closed by Services.close
    return VaultSecretStore(
        client,
        mount=vault.mount,
        token=vault.token.get_secret_value(),
        address_for_users=vault.address,
    )


def build_catalog_provider(
    catalog: CatalogSection, *, base: Path, http_clients: list[httpx.Client]
) -> CatalogProvider:
    """Backstage's catalog API, or a directory of catalog-info.yaml files (relative to base)."""
    if catalog.provider is CatalogKind.BACKSTAGE and catalog.backstage is not None:
        backstage = catalog.backstage
        client = httpx.Client(
            base_url=backstage.base_url,
            timeout=httpx.Timeout(backstage.timeout_seconds, connect=5),
        )
        http_clients.append(client)
        return BackstageCatalog(
            client,
            token=backstage.token.get_secret_value() if backstage.token else None,
            filters=backstage.filters,
            page_size=backstage.page_size,
        )
    return CatalogFiles(base / catalog.files.path, globs=catalog.files.globs)


def build_oncall_provider(
    oncall: OnCallSection, *, base: Path, http_clients: list[httpx.Client]
) -> OnCallProvider:
    """PagerDuty, Opsgenie, or a rotation file (relative to base)."""
    if oncall.provider is OnCallKind.PAGERDUTY and oncall.pagerduty is not None:
        pagerduty = oncall.pagerduty
        client = httpx.Client(
            base_url=pagerduty.base_url,
            timeout=httpx.Timeout(pagerduty.timeout_seconds, connect=3),
        )
        http_clients.append(client)
        return PagerDuty(
            client,
            token=pagerduty.token.get_secret_value(),
            from_email=pagerduty.from_email,
        )
    if oncall.provider is OnCallKind.OPSGENIE and oncall.opsgenie is not None:
        opsgenie = oncall.opsgenie
        client = httpx.Client(
            base_url=opsgenie.base_url,
            timeout=httpx.Timeout(opsgenie.timeout_seconds, connect=3),
        )
        http_clients.append(client)
        return Opsgenie(client, api_key=opsgenie.api_key.get_secret_value())
    return RotationProvider(base / oncall.rotation.path)


# The factories the feature list passes to features: each builds from the feature's config
# section and registers what it opened with the core, which closes it with the process.


def provisioners(section: DatabasesSection, core: Core) -> dict[str, Provisioner]:
    built = _closing(core, lambda clients: build_provisioners(section, clients))
    built.update(orchestrated_provisioners(section, core.config_dir, core.closers))
    return built


def orchestrated_provisioners(
    section: DatabasesSection, config_dir: Path, closers: list[Callable[[], None]]
) -> dict[str, Provisioner]:
    """The engines whose resources the platform's orchestrator makes (`driver:` set)."""
    found: dict[str, Provisioner] = {}
    for kind, engine in section.engines.items():
        settings = engine.kubernetes or engine.github
        if engine.driver is None or settings is None:
            continue
        orchestrator = build_orchestrator(settings, config_dir, closers)
        polling = Polling(
            poll_seconds=settings.waiting.poll_seconds,
            timeout_seconds=settings.waiting.timeout_minutes * 60,
        )
        found[kind] = OrchestratedProvisioner(
            kind.value, orchestrator, parameters=dict(settings.parameters), polling=polling
        )
    return found


def secret_store(section: DatabasesSection, core: Core) -> SecretStore | None:
    return _closing(core, lambda clients: build_secret_store(section, clients))


def catalog_provider(section: CatalogSection, core: Core) -> CatalogProvider:
    return _closing(
        core,
        lambda clients: build_catalog_provider(section, base=core.config_dir, http_clients=clients),
    )


def catalog_files(root: Path) -> CatalogProvider:
    """The catalog-info.yaml files under `root` (the docs feature reads their TechDocs)."""
    return CatalogFiles(root)


def oncall_provider(section: OnCallSection, core: Core) -> OnCallProvider:
    return _closing(
        core,
        lambda clients: build_oncall_provider(section, base=core.config_dir, http_clients=clients),
    )


def charts(_section: SurveysSection, _core: Core) -> ChartRenderer:
    return MatplotlibCharts()


def stats_charts(_section: StatsSection, _core: Core) -> ChartRenderer:
    return MatplotlibCharts()


_Built = TypeVar("_Built")


def _closing(core: Core, build: Callable[[list[httpx.Client]], _Built]) -> _Built:
    clients: list[httpx.Client] = []
    built = build(clients)
    core.closers.extend(client.close for client in clients)
    return built
