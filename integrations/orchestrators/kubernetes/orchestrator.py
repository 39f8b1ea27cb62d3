"""`KubernetesOrchestrator`: one custom resource per request, through server-side apply.

`plan` renders the manifest, checks it against the CRD schema and has the API server
check it too (`dryRun=All`), storing nothing; `apply` does the same for real. The handle
names the object, so applying the same request again finds the same object (server-side
apply is declarative) and another process can follow it. `status` reads the object's
conditions, `outputs` its connection Secret (values only ever in `Outputs.secrets`), and
`destroy` deletes it with foreground propagation: `status` says GONE once it is 404.
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from integrations.errors import ProviderRejected
from integrations.orchestrators.base import (
    Handle,
    OrchestratorPlan,
    OrchestratorRequest,
    Outputs,
    Phase,
    PlannedChange,
    Status,
)
from integrations.orchestrators.kubernetes.api import PROVIDER, KubernetesApi, ObjectRef
from integrations.orchestrators.kubernetes.conditions import read_status
from integrations.orchestrators.kubernetes.config import KubernetesConfig
from integrations.orchestrators.kubernetes.connection import make_client
from integrations.orchestrators.kubernetes.manifest import (
    ManifestInvalid,
    placeholder_values,
    render,
    render_text,
)


class KubernetesOrchestrator:
    name = "kubernetes"

    def __init__(
        self,
        config: KubernetesConfig,
        *,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """`client` defaults to one built from `config.access`; it needs the API server
        as its `base_url` and the bot's credentials."""
        self._config = config
        self._api = KubernetesApi(
            client or make_client(config),
            retries=config.retries,
            max_backoff=config.max_backoff,
            sleep=sleep,
        )
        self._plurals: dict[tuple[str, str, str], str] = {}

    def plan(self, request: OrchestratorRequest) -> OrchestratorPlan:
        manifest, ref = self._prepare(request)
        existing = self._api.get(ref)
        self._apply(ref, manifest, dry_run=True)
        where = f"namespace {ref.namespace}" if ref.namespace else "the cluster"
        return OrchestratorPlan(
            changes=(PlannedChange("update" if existing else "create", ref.label),),
            notes=(f"Checked by the API server with a server-side dry run in {where}.",),
        )

    def apply(self, request: OrchestratorRequest) -> Handle:
        manifest, ref = self._prepare(request)
        self._apply(ref, manifest, dry_run=False)
        details = {
            "group": ref.group,
            "version": ref.version,
            "kind": ref.kind,
            "plural": ref.plural,
            "namespace": ref.namespace or "",
            "name": ref.name,
        }
        details.update(self._secret_details(request, manifest, ref))
        return Handle(
            self.name, f"{ref.api_version}/{ref.kind}/{ref.namespace or ''}/{ref.name}", details
        )

    def status(self, handle: Handle) -> Status:
        obj = self._api.get(_ref(handle))
        if obj is None:
            return Status(Phase.GONE, f"{_ref(handle).label} is not in the cluster")
        return read_status(obj, self._config.flavour)

    def outputs(self, handle: Handle) -> Outputs:
        ref = _ref(handle)
        obj = self._api.get(ref)
        if obj is None:
            raise ProviderRejected(PROVIDER, f"{ref.label} is not in the cluster")
        outputs = Outputs(values=_status_values(obj, self._config.status_outputs))
        secret_ref = _secret_ref(handle, obj, ref)
        if secret_ref is not None and self._config.connection_secret is not None:
            self._read_secret(*secret_ref, outputs)
        return outputs

    def destroy(self, handle: Handle) -> None:
        self._api.delete(_ref(handle))

    def _apply(self, ref: ObjectRef, manifest: Mapping[str, Any], *, dry_run: bool) -> None:
        self._api.apply(
            ref,
            manifest,
            manager=self._config.field_manager,
            force=self._config.force_conflicts,
            dry_run=dry_run,
        )

    def _prepare(self, request: OrchestratorRequest) -> tuple[dict[str, Any], ObjectRef]:
        config = self._config
        manifest = render(config.manifest_template, placeholder_values(request), config.schema)
        metadata = manifest.setdefault("metadata", {})
        given = metadata.get("namespace")
        if config.namespace is None and given:
            raise ManifestInvalid("metadata.namespace: set for a kind configured as cluster-scoped")
        if config.namespace is not None and given not in (None, config.namespace):
            raise ManifestInvalid(f"metadata.namespace: must be {config.namespace} (or left out)")
        if config.namespace is not None:
            metadata["namespace"] = config.namespace
        group, _, version = str(manifest["apiVersion"]).rpartition("/")
        kind = str(manifest["kind"])
        plural = config.plural or self._plural(group, version, kind)
        return manifest, ObjectRef(group, version, kind, plural, config.namespace, metadata["name"])

    def _plural(self, group: str, version: str, kind: str) -> str:
        key = (group, version, kind)
        if key not in self._plurals:
            plural, namespaced = self._api.discover(group, version, kind)
            if namespaced != (self._config.namespace is not None):
                scope = "namespaced" if namespaced else "cluster-scoped"
                raise ProviderRejected(
                    PROVIDER, f"{kind} is {scope} in the cluster; configure the namespace to match"
                )
            self._plurals[key] = plural
        return self._plurals[key]

    def _secret_details(
        self, request: OrchestratorRequest, manifest: Mapping[str, Any], ref: ObjectRef
    ) -> dict[str, str]:
        secret = self._config.connection_secret
        if secret is None:
            return {}
        if secret.name:
            name = render_text(secret.name, placeholder_values(request))
            return {
                "secret_name": name,
                "secret_namespace": secret.namespace or ref.namespace or "",
            }
        if secret.namespace:
            return {"secret_namespace": secret.namespace}
        return {}

    def _read_secret(self, namespace: str, name: str, outputs: Outputs) -> None:
        secret = self._api.get_secret(namespace, name)
        if secret is None:
            raise ProviderRejected(
                PROVIDER, f"the connection Secret {namespace}/{name} is not there yet"
            )
        data = secret.get("data") or {}
        settings = self._config.connection_secret
        assert settings is not None
        for key in settings.keys or tuple(sorted(data)):
            if key not in data:
                raise ProviderRejected(
                    PROVIDER, f"the connection Secret {namespace}/{name} has no key {key}"
                )
            value = _decoded(data[key], key, name)
            (outputs.values if key in settings.public_keys else outputs.secrets)[key] = value


def _ref(handle: Handle) -> ObjectRef:
    d = handle.details
    return ObjectRef(
        d["group"], d["version"], d["kind"], d["plural"], d["namespace"] or None, d["name"]
    )


def _secret_ref(handle: Handle, obj: Mapping[str, Any], ref: ObjectRef) -> tuple[str, str] | None:
    """The Secret's namespace and name: configured, or the object's own reference to it."""
    written = (obj.get("spec") or {}).get("writeConnectionSecretToRef") or {}
    name = handle.details.get("secret_name") or written.get("name")
    if not name:
        return None
    namespace = handle.details.get("secret_namespace") or written.get("namespace") or ref.namespace
    if not namespace:
        raise ProviderRejected(
            PROVIDER, f"{ref.label} names its connection Secret without a namespace"
        )
    return str(namespace), str(name)


def _status_values(obj: Mapping[str, Any], paths: Mapping[str, str]) -> dict[str, str]:
    values = {}
    for output, path in paths.items():
        node: Any = obj
        for part in path.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if node is not None and not isinstance(node, dict | list):
            values[output] = str(node).lower() if isinstance(node, bool) else str(node)
    return values


def _decoded(encoded: Any, key: str, secret: str) -> str:
    try:
        return base64.b64decode(str(encoded), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        # The value stays out of the message: it is a credential.
        raise ProviderRejected(
            PROVIDER, f"key {key} of the Secret {secret} is not base64 text"
        ) from None
