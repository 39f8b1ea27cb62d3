"""Concrete adapters, built from the platform config: the only place they are constructed.

Everything else sees `integrations.protocols`. HTTP clients an adapter needs are appended to
`http_clients` so that `Services.close()` closes them.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from commands.lookup.config import CatalogKind, CatalogSection, OnCallKind, OnCallSection
from commands.new_db.config import DatabasesSection, EngineKind
from integrations.backstage import BackstageCatalog
from integrations.catalog_files import CatalogFiles
from integrations.opsgenie import Opsgenie
from integrations.pagerduty import PagerDuty
from integrations.protocols import CatalogProvider, OnCallProvider, Provisioner, SecretStore
from integrations.rotation import RotationProvider


def build_provisioners(
    section: DatabasesSection, http_clients: list[httpx.Client]
) -> dict[str, Provisioner]:
    """One provisioner per configured engine; each client library is imported only if used."""
    built: dict[str, Provisioner] = {}
    for kind, engine in section.engines.items():
        password = engine.admin_password.get_secret_value() if engine.admin_password else ""
        if kind is EngineKind.POSTGRES:
            from integrations.provisioning.postgres import PostgresProvisioner

            built[kind] = PostgresProvisioner(
                host=engine.host,
                port=engine.port or 5432,
                admin_user=engine.admin_user or "postgres",
                admin_password=password,
            )
        elif kind is EngineKind.MARIADB:
            from integrations.provisioning.mariadb import MariaDBProvisioner

            built[kind] = MariaDBProvisioner(
                host=engine.host,
                port=engine.port or 3306,
                admin_user=engine.admin_user or "root",
                admin_password=password,
            )
        elif kind is EngineKind.REDIS:
            from integrations.provisioning.redis import RedisProvisioner

            built[kind] = RedisProvisioner(
                host=engine.host,
                port=engine.port or 6379,
                admin_user=engine.admin_user,
                admin_password=password or None,
            )
        elif kind is EngineKind.RABBITMQ:
            from integrations.provisioning import rabbitmq

            client = httpx.Client(
                base_url=engine.management_url or rabbitmq.default_management_url(engine.host),
                timeout=rabbitmq.MANAGEMENT_TIMEOUT,
            )
            http_clients.append(client)  # closed by Services.close
            built[kind] = rabbitmq.RabbitMQProvisioner(
                client,
                admin_user=engine.admin_user or "guest",
                admin_password=password,
                host=engine.host,
                port=engine.port or 5672,
            )
        elif kind is EngineKind.NATS:
            from integrations.provisioning.nats import NatsProvisioner

            built[kind] = NatsProvisioner(
                host=engine.host,
                port=engine.port or 4222,
                admin_user=engine.admin_user,
                admin_password=password or None,
            )
        else:
            from integrations.provisioning.sqlite import SqliteProvisioner

            # The config refuses a sqlite engine without data_dir.
            assert kind is EngineKind.SQLITE and engine.data_dir is not None
            built[kind] = SqliteProvisioner(data_dir=engine.data_dir)
    return built


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
