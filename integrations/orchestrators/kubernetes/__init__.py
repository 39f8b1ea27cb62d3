"""The `kubernetes` orchestrator: Crossplane claims and composite resources, Kratix
resource requests and provider-sql managed resources, over the API server's HTTPS API.

    KubernetesOrchestrator(config: KubernetesConfig)     implements base.Orchestrator
    KubernetesConfig / ClusterAccess / ConnectionSecret  plain values, filled by the bot
    Flavour                                              how the object's status is read

Errors (from `integrations.errors`):

    ProviderUnavailable     unreachable, 5xx after retries
    └── ProviderRateLimited 429 after retries (`retry_after` from the last answer)
    ProviderRejected        401/403 (credentials), 409 (a field manager's conflict),
    │                       422 (the API's causes), a missing CRD or namespace
    └── ManifestInvalid     the template or the rendered manifest is wrong: nothing sent

It talks plain httpx rather than a Kubernetes client library: server-side apply of an
arbitrary custom resource is one PATCH, and the client stays injectable for tests.
"""

from integrations.orchestrators.kubernetes.config import (
    ClusterAccess,
    ConnectionSecret,
    Flavour,
    KubernetesConfig,
)
from integrations.orchestrators.kubernetes.manifest import ManifestInvalid
from integrations.orchestrators.kubernetes.orchestrator import KubernetesOrchestrator

__all__ = [
    "ClusterAccess",
    "ConnectionSecret",
    "Flavour",
    "KubernetesConfig",
    "KubernetesOrchestrator",
    "ManifestInvalid",
]
