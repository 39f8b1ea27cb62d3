"""What the Kubernetes orchestrator is told: plain values the bot fills from its own config."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

FIELD_MANAGER = "platform-bot"
SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
IN_CLUSTER_SERVER = "https://kubernetes.default.svc"


class Flavour(StrEnum):
    """How the object is read back: which conditions mean ready, failed or still working."""

    CROSSPLANE_CLAIM = "crossplane-claim"
    """A Crossplane v1 claim: namespaced, binds to a cluster-scoped composite resource."""
    CROSSPLANE_XR = "crossplane-xr"
    """A Crossplane v2 composite resource in the team's namespace (no claim)."""
    KRATIX = "kratix"
    """A Kratix resource request against a Promise's API."""
    MANAGED = "managed"
    """A provider-sql managed resource (`Database`, `Role`, `Grant`) applied directly."""


@dataclass(frozen=True)
class ClusterAccess:
    """Where the API server is and who the bot is there.

    Exactly one source: `kubeconfig` (a file path; its current context, or `context`), or
    `in_cluster` (the pod's service account token and CA under `service_account_dir`).
    `server` overrides the address either one gives.
    """

    kubeconfig: Path | None = None
    context: str | None = None
    in_cluster: bool = False
    server: str | None = None
    service_account_dir: Path = SERVICE_ACCOUNT_DIR


@dataclass(frozen=True)
class ConnectionSecret:
    """The Secret the controller writes the credentials to, and which of its keys to read.

    Without `name`, the object's own `spec.writeConnectionSecretToRef` names it (Crossplane
    claims and managed resources carry it). `keys` limits what is read (empty: every key);
    keys in `public_keys` are not credentials and go to `Outputs.values`.
    """

    name: str = ""
    """A template with the same placeholders as the manifest, e.g. `${name}-conn`."""
    namespace: str = ""
    """Empty: the object's namespace."""
    keys: tuple[str, ...] = ()
    public_keys: tuple[str, ...] = ("endpoint", "port")


@dataclass(frozen=True)
class KubernetesConfig:
    access: ClusterAccess
    manifest_template: str
    """One YAML document with `${name}`, `${team}`, `${tier}`, `${template}` and
    `${parameters.X}` placeholders in its values."""
    flavour: Flavour
    namespace: str | None
    """Where the object lives; None for a cluster-scoped kind (v1 managed resources)."""
    plural: str = ""
    """The resource's plural (`databases`); empty: asked of the API server's discovery."""
    schema: Mapping[str, Any] | None = None
    """The CRD version's `openAPIV3Schema`: the rendered manifest is checked against it
    before anything is sent."""
    connection_secret: ConnectionSecret | None = field(default_factory=ConnectionSecret)
    """None: the object has no connection Secret (outputs come from `status_outputs`)."""
    status_outputs: Mapping[str, str] = field(default_factory=dict)
    """Output name → dotted path in the object (`status.atProvider.host`); never secret."""
    field_manager: str = FIELD_MANAGER
    force_conflicts: bool = True
    """Take over fields another manager set (server-side apply `force`); the bot owns
    the objects it makes. False: a conflict is refused and names the other manager."""
    connect_timeout: float = 5.0
    request_timeout: float = 15.0
    retries: int = 3
    """Extra attempts after a 429, a 5xx or a connection error."""
    max_backoff: float = 20.0
    """The longest wait between attempts, Retry-After included."""
