"""`Orchestrator` over the Humanitec Platform Orchestrator: an environment per request.

`apply` clones the configured base environment into a new one (`POST …/envs` with the base's
last deployment as `from_deploy_id`, the tier's environment type), has Humanitec convert the
request's Score workload into deployment-set contents (`POST …/artefact-versions/convert-score`,
the conversion `humctl score deploy` uses, so placeholders and shared resources follow
Humanitec's own rules), wraps them in a Delta and deploys it. The environment's id is the
request's name; the handle carries it and the deployment's id.

Idempotent for the same request name: an environment that already exists (409) is reused, and
a deployment whose comment carries the request's marker is found again instead of started
twice. A Delta made by a run that crashed before deploying is left behind: Deltas are drafts
and change nothing by themselves.

`status` reads the environment first (404 → GONE, `deleting` → PROGRESSING), then the
deployment (`pending`/`in progress` → PROGRESSING, `succeeded` → READY, `failed` → FAILED
with the deployment's errors). `outputs` lists the environment's active resources: their
non-secret outputs are values; secrets only when the API answers with a `secrets` field
(`secret_refs` are references into Humanitec's store and are not read).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from integrations.errors import ProviderNotFound, ProviderRejected
from integrations.orchestrators.base import (
    Handle,
    OrchestratorPlan,
    OrchestratorRequest,
    Outputs,
    Phase,
    PlannedChange,
    Status,
)
from integrations.orchestrators.humanitec_api import (
    PROVIDER,
    HumanitecApi,
    HumanitecConfig,
    HumanitecConflict,
)
from integrations.score import ScoreError, ScoreWorkload, parse_score

__all__ = ["HumanitecConfig", "HumanitecOrchestrator"]

# Humanitec's EnvironmentID pattern and length (EnvironmentDefinitionRequest.id).
ENV_ID = re.compile(r"^[a-z0-9](?:-?[a-z0-9]+)+$")
ENV_ID_MAX = 50
MAX_ERRORS_SHOWN = 3
_IN_PROGRESS = {"pending": "is waiting to start", "in progress": "is in progress"}


class HumanitecOrchestrator:
    name = "humanitec"

    def __init__(self, config: HumanitecConfig, *, api: HumanitecApi | None = None) -> None:
        self._config = config
        self._api = api or HumanitecApi(config)
        self.poll_interval_seconds = config.poll_interval_seconds

    def close(self) -> None:
        self._api.close()

    def plan(self, request: OrchestratorRequest) -> OrchestratorPlan:
        workload = self._workload(request)
        env_type = self._env_type(request)
        self._check_app()
        from_deploy = self._base_deploy_id()
        exists = self._environment(request.name) is not None
        converted = self._convert(request)
        env_change = (
            PlannedChange("update", f"Environment {request.name} exists: reused as it is")
            if exists
            else PlannedChange(
                "create",
                f"Environment {request.name} of type {env_type}, cloned from "
                f"{self._config.base_env} at deployment {from_deploy}",
            )
        )
        images = ", ".join(f"{c.name} ({c.image})" for c in workload.containers)
        deploy_change = PlannedChange(
            "create", f"Deployment of workload {workload.name} from its Score file: {images}"
        )
        resources = tuple(
            PlannedChange("create", f"Resource {r.name}: {r.type}" + _class_of(r.resource_class))
            for r in workload.resources
        )
        notes = (
            f"Checked with Humanitec: app {self._config.app_id} and base environment "
            f"{self._config.base_env} exist, and the Score file converts "
            f"({len(converted.get('modules') or {})} workload, "
            f"{len(converted.get('shared') or {})} shared resources).",
            "Resources come from the org's resource definitions for their type and class.",
        )
        return OrchestratorPlan(changes=(env_change, deploy_change, *resources), notes=notes)

    def apply(self, request: OrchestratorRequest) -> Handle:
        try:
            return self._apply(request)
        except ProviderNotFound as exc:
            # Something apply relies on vanished under it (the app, the new environment).
            raise ProviderRejected(PROVIDER, exc.message) from None

    def _apply(self, request: OrchestratorRequest) -> Handle:
        workload = self._workload(request)
        env_type = self._env_type(request)
        env_id = self._ensure_environment(request, env_type)
        marker = _marker(request.name)
        found = self._our_deployment(env_id, marker)
        if found is None:
            delta_id = self._api.create_delta(_delta(self._convert(request), env_id, workload))
            found = self._deploy(env_id, delta_id, marker, workload)
        return Handle(self.name, env_id, {"env_id": env_id, "deploy_id": found})

    def status(self, handle: Handle) -> Status:
        env_id, deploy_id = handle.details["env_id"], handle.details["deploy_id"]
        env = self._environment(env_id)
        if env is None:
            return Status(Phase.GONE, f"Environment {env_id} no longer exists in Humanitec")
        if env.get("status") == "deleting":
            return Status(Phase.PROGRESSING, f"Humanitec is deleting environment {env_id}")
        try:
            deploy = self._api.get_deployment(env_id, deploy_id)
        except ProviderNotFound:
            return Status(Phase.FAILED, f"Deployment {deploy_id} is gone from {env_id}")
        state = str(deploy.get("status") or "")
        if state == "succeeded":
            return Status(Phase.READY, f"Deployment {deploy_id} to {env_id} succeeded")
        if state == "failed":
            return Status(Phase.FAILED, self._failure(env_id, deploy_id))
        doing = _IN_PROGRESS.get(state, f"is {state or 'in an unknown state'}")
        return Status(Phase.PROGRESSING, f"Deployment {deploy_id} to {env_id} {doing}")

    def outputs(self, handle: Handle) -> Outputs:
        env_id = handle.details["env_id"]
        outputs = Outputs(values={"environment": env_id, "deployment": handle.details["deploy_id"]})
        try:
            resources = self._api.active_resources(env_id)
        except ProviderNotFound:
            raise ProviderRejected(PROVIDER, f"environment {env_id} does not exist") from None
        names = [_short_name(str(r.get("res_id") or "")) for r in resources]
        for resource, name in zip(resources, names, strict=True):
            # Two resources may shorten to the same name (a module's db and a shared db).
            key = name if names.count(name) == 1 else str(resource.get("res_id"))
            outputs.values[f"{key}.type"] = str(resource.get("type") or "")
            outputs.values[f"{key}.res_id"] = str(resource.get("res_id") or "")
            outputs.values.update(_flat(key, resource.get("resource")))
            outputs.secrets.update(_flat(key, resource.get("secrets")))
        return outputs

    def destroy(self, handle: Handle) -> None:
        try:
            self._api.delete_environment(handle.details["env_id"])
        except ProviderNotFound:
            return  # already gone: a repeat, or someone deleted it in Humanitec

    def _workload(self, request: OrchestratorRequest) -> ScoreWorkload:
        if request.workload is None:
            raise ProviderRejected(PROVIDER, "Humanitec deploys a Score workload; none was given")
        try:
            return parse_score(request.workload)
        except ScoreError as exc:
            raise ProviderRejected(PROVIDER, str(exc)) from None

    def _env_type(self, request: OrchestratorRequest) -> str:
        if not ENV_ID.match(request.name) or len(request.name) > ENV_ID_MAX:
            raise ProviderRejected(
                PROVIDER,
                f"{request.name!r} cannot be a Humanitec environment id: lowercase letters, "
                "digits and single hyphens between them",
            )
        env_type = self._config.env_types.get(request.tier)
        if env_type is None:
            raise ProviderRejected(
                PROVIDER, f"no Humanitec environment type is configured for tier {request.tier!r}"
            )
        return env_type

    def _check_app(self) -> None:
        try:
            self._api.get_app()
        except ProviderNotFound:
            raise ProviderRejected(
                PROVIDER,
                f"app {self._config.app_id!r} does not exist in org {self._config.org_id!r}",
            ) from None

    def _base_deploy_id(self) -> str:
        base = self._environment(self._config.base_env)
        if base is None:
            raise ProviderRejected(
                PROVIDER,
                f"base environment {self._config.base_env!r} does not exist in app "
                f"{self._config.app_id!r}: new environments are cloned from it",
            )
        last = base.get("last_deploy")
        if not isinstance(last, dict) or not last.get("id"):
            raise ProviderRejected(
                PROVIDER,
                f"base environment {self._config.base_env!r} has never been deployed: "
                "Humanitec clones new environments from a deployment",
            )
        return str(last["id"])

    def _environment(self, env_id: str) -> dict[str, Any] | None:
        try:
            return self._api.get_environment(env_id)
        except ProviderNotFound:
            return None

    def _ensure_environment(self, request: OrchestratorRequest, env_type: str) -> str:
        body = {
            "id": request.name,
            "name": f"{request.name} ({request.team})",
            "type": env_type,
            "from_deploy_id": self._base_deploy_id(),
        }
        try:
            self._api.create_environment(body)
            return request.name
        except HumanitecConflict:
            pass  # the environment a previous run of this request made: reuse it
        existing = self._environment(request.name)
        if existing is not None and existing.get("status") == "deleting":
            raise ProviderRejected(
                PROVIDER, f"environment {request.name} is still being deleted; try again later"
            )
        return request.name

    def _convert(self, request: OrchestratorRequest) -> dict[str, Any]:
        assert request.workload is not None  # checked by _workload first
        return self._api.convert_score(request.workload)

    def _our_deployment(self, env_id: str, marker: str) -> str | None:
        """The deployment a previous apply of this request started (newest first, per spec)."""
        for deploy in self._api.list_deployments(env_id):
            if marker in str(deploy.get("comment") or "") and deploy.get("id"):
                return str(deploy["id"])
        return None

    def _deploy(self, env_id: str, delta_id: str, marker: str, workload: ScoreWorkload) -> str:
        body = {
            "delta_id": delta_id,
            "comment": f"Platform Bot: deploy {workload.name} from its Score file {marker}",
        }
        try:
            deploy = self._api.create_deployment(env_id, body)
        except HumanitecConflict:
            # A deployment is running: ours if a retried POST had already started it.
            found = self._our_deployment(env_id, marker)
            if found is None:
                raise
            return found
        return str(deploy["id"])

    def _failure(self, env_id: str, deploy_id: str) -> str:
        errors = self._api.deployment_errors(env_id, deploy_id)
        reasons = [
            f"{e.get('scope', '')} {e.get('object_id', '')}: "
            f"{e.get('summary') or ''} {e.get('message') or ''}".strip()
            for e in errors[:MAX_ERRORS_SHOWN]
        ]
        more = len(errors) - MAX_ERRORS_SHOWN
        listed = "; ".join(reasons) + (f"; {more} more" if more > 0 else "")
        return f"Deployment {deploy_id} to {env_id} failed: " + (
            listed or "Humanitec gave no reason"
        )


def _delta(converted: Mapping[str, Any], env_id: str, workload: ScoreWorkload) -> dict[str, Any]:
    """A Delta adding the converted workload module(s) and shared resources to the env."""
    shared = converted.get("shared") or {}
    return {
        "metadata": {"env_id": env_id, "name": f"Platform Bot: {workload.name} from Score"},
        "modules": {"add": dict(converted.get("modules") or {})},
        "shared": [
            {"op": "add", "path": f"/{key}", "value": value} for key, value in shared.items()
        ],
    }


def _marker(name: str) -> str:
    return f"[platform-bot request {name}]"


def _short_name(res_id: str) -> str:
    """`modules.orders-api.externals.db` → `db`, `shared.dns` → `dns`; others as they are."""
    parts = res_id.split(".")
    if len(parts) == 4 and parts[0] == "modules" and parts[2] == "externals":
        return parts[3]
    if len(parts) == 2 and parts[0] == "shared":
        return parts[1]
    return res_id


def _flat(prefix: str, values: Any) -> dict[str, str]:
    if not isinstance(values, dict):
        return {}
    return {f"{prefix}.{key}": _text(value) for key, value in values.items()}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _class_of(resource_class: str | None) -> str:
    return f" (class {resource_class})" if resource_class else ""
