"""Fixtures for the orchestrators' contract tests: for Kubernetes, the fake API server with
the CRDs it knows, a kubeconfig pointing at it and a factory for orchestrators of each
flavour; for GitHub, its spec, a clock and the fake API."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from integrations.orchestrators.kubernetes import (
    ClusterAccess,
    ConnectionSecret,
    Flavour,
    KubernetesConfig,
    KubernetesOrchestrator,
)
from tests.clock import Clock
from tests.conftest import REPO_ROOT
from tests.integrations.openapi_contract import Contract, spec_path
from tests.integrations.orchestrators.fake_github import FakeGitHub
from tests.integrations.orchestrators.fake_kubernetes import TOKEN, FakeKubernetes

EXAMPLES = REPO_ROOT / "examples" / "orchestrators"
NAMESPACE = "team-orders"
DATABASE_CRD = ("crossplane-provider-sql", "crds", "postgresql.sql.m.crossplane.io_databases.yaml")
CREDENTIALS = {
    "username": "orders",
    "password": "s3cr3t-pw",
    "endpoint": "pg.internal",
    "port": "5432",
}

# provider-sql's own example, with placeholders (a managed resource applied directly).
MANAGED_TEMPLATE = textwrap.dedent("""\
    apiVersion: postgresql.sql.m.crossplane.io/v1alpha1
    kind: Database
    metadata:
      name: ${name}
      labels: {platform-bot/team: "${team}"}
    spec:
      forProvider:
        owner: ${parameters.owner}
        connectionLimit: ${parameters.connection_limit}
      providerConfigRef: {kind: ProviderConfig, name: default}
      writeConnectionSecretToRef: {name: "${name}-conn"}
""")
XR_TEMPLATE = textwrap.dedent("""\
    apiVersion: platform.example.org/v1alpha1
    kind: PostgreSQLDatabase
    metadata: {name: "${name}"}
    spec:
      parameters: {storageGB: "${parameters.storage_gb}", version: "${parameters.version}"}
      crossplane: {compositionSelector: {matchLabels: {tier: "${tier}"}}}
""")


def _crd(group: str, kind: str, plural: str, spec: dict[str, Any]) -> dict[str, Any]:
    """A CustomResourceDefinition as an XRD or a Promise would have the cluster serve it."""
    schema = {
        "type": "object",
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": spec,
            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        },
    }
    version = {
        "name": "v1alpha1",
        "served": True,
        "storage": True,
        "schema": {"openAPIV3Schema": schema},
    }
    names = {"kind": kind, "plural": plural, "singular": kind.lower()}
    return {"spec": {"group": group, "names": names, "scope": "Namespaced", "versions": [version]}}


PARAMETERS = {
    "type": "object",
    "properties": {
        "storageGB": {"type": "integer"},
        "version": {"type": "string", "enum": ["15", "16", "17"]},
    },
    "required": ["storageGB"],
}
CLAIM_CRD = _crd(
    "database.example.org",
    "PostgreSQLInstance",
    "postgresqlinstances",
    {
        "type": "object",
        "properties": {
            "parameters": PARAMETERS,
            "compositionSelector": {
                "type": "object",
                "properties": {
                    "matchLabels": {"type": "object", "additionalProperties": {"type": "string"}}
                },
            },
            "writeConnectionSecretToRef": {
                "type": "object",
                "properties": {"name": {"type": "string"}},
            },
        },
    },
)
XR_CRD = _crd(
    "platform.example.org",
    "PostgreSQLDatabase",
    "postgresqldatabases",
    {
        "type": "object",
        "properties": {
            "parameters": PARAMETERS,
            "crossplane": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        },
    },
)
KRATIX_CRD = _crd(
    "marketplace.kratix.io",
    "postgresql",
    "postgresqls",
    {
        "type": "object",
        "properties": {
            "env": {"type": "string"},
            "teamId": {"type": "string"},
            "dbName": {"type": "string"},
        },
    },
)


def schema_of(crd: dict[str, Any]) -> dict[str, Any]:
    return crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]  # type: ignore[no-any-return]


@pytest.fixture
def database_crd() -> dict[str, Any]:
    return yaml.safe_load(spec_path(*DATABASE_CRD).read_text())  # type: ignore[no-any-return]


@pytest.fixture
def fake(database_crd: dict[str, Any]) -> Iterator[FakeKubernetes]:
    api = FakeKubernetes(namespaces=(NAMESPACE,))
    api.install_crd(database_crd)
    api.install_crd(CLAIM_CRD)
    api.install_crd(XR_CRD)
    api.install_crd(KRATIX_CRD, controller="kratix")
    api.behaviour.secret_data = dict(CREDENTIALS)
    with api.running():
        yield api


@pytest.fixture
def kubeconfig(fake: FakeKubernetes, tmp_path: Path) -> Path:
    path = tmp_path / "kubeconfig"
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "platform",
                "clusters": [{"name": "platform", "cluster": {"server": fake.url}}],
                "users": [{"name": "bot", "user": {"token": TOKEN}}],
                "contexts": [
                    {"name": "platform", "context": {"cluster": "platform", "user": "bot"}}
                ],
            }
        )
    )
    return path


def flavour_config(
    flavour: Flavour, kubeconfig: Path, database_crd: dict[str, Any]
) -> KubernetesConfig:
    access = ClusterAccess(kubeconfig=kubeconfig)
    if flavour is Flavour.CROSSPLANE_CLAIM:
        template = (EXAMPLES / "crossplane-postgres-claim.yaml").read_text()
        return KubernetesConfig(access, template, flavour, NAMESPACE, schema=schema_of(CLAIM_CRD))
    if flavour is Flavour.CROSSPLANE_XR:
        secret = ConnectionSecret(name="${name}-conn")  # composed by the Composition in v2
        return KubernetesConfig(
            access,
            XR_TEMPLATE,
            flavour,
            NAMESPACE,
            schema=schema_of(XR_CRD),
            connection_secret=secret,
        )
    if flavour is Flavour.KRATIX:
        template = (EXAMPLES / "kratix-postgres-request.yaml").read_text()
        secret = ConnectionSecret(
            name="${name}-postgres-credentials", keys=("username", "password", "endpoint")
        )
        return KubernetesConfig(
            access,
            template,
            flavour,
            NAMESPACE,
            schema=schema_of(KRATIX_CRD),
            connection_secret=secret,
            status_outputs={"summary": "status.message"},
        )
    return KubernetesConfig(
        access, MANAGED_TEMPLATE, flavour, NAMESPACE, schema=schema_of(database_crd)
    )


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make(
    kubeconfig: Path, database_crd: dict[str, Any], sleeps: list[float]
) -> Callable[..., KubernetesOrchestrator]:
    def build(flavour: Flavour = Flavour.MANAGED, **changes: Any) -> KubernetesOrchestrator:
        config = replace(flavour_config(flavour, kubeconfig, database_crd), **changes)
        return KubernetesOrchestrator(config, sleep=sleeps.append)

    return build


GITHUB_TOKEN = "ghp_Fake7oken9Zq2WxY"
"""A distinctive token, searched for in messages and logs that must not contain it."""


@pytest.fixture(scope="session")
def github_contract() -> Contract:
    return Contract(spec_path("github", "api.github.com.subset.json"))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def github(github_contract: Contract, clock: Clock) -> Iterator[FakeGitHub]:
    with FakeGitHub(github_contract, clock, token=GITHUB_TOKEN) as fake:
        yield fake
    assert fake.violations == []
