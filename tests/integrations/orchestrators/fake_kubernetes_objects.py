"""What the fake Kubernetes API server does with objects (helper of fake_kubernetes.py).

Server-side apply as the API defines it, in the parts the orchestrator uses: an apply
configuration owned per field manager (leaf fields; lists are atomic), conflicts with
other managers unless `force=true`, `fieldValidation` Strict (400 for a field the
structural schema does not declare) or Warn/Ignore (the field is dropped), the CRD's
`openAPIV3Schema` checked (422 Invalid with `details.causes`), `status` ignored (a
subresource), `metadata.generation`/`resourceVersion`/`uid` kept by the server. Plus a
controller that moves the conditions on as the object is read.
"""

from __future__ import annotations

import base64
import copy
import uuid
from dataclasses import dataclass, field
from typing import Any

import jsonschema

NOW = "2026-11-30T10:00:00Z"
Path = tuple[str, ...]


class ApiError(Exception):
    def __init__(
        self, code: int, reason: str, message: str, causes: list[dict[str, str]] | None = None
    ) -> None:
        super().__init__(message)
        self.body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": message,
            "reason": reason,
            "code": code,
        }
        if causes is not None:
            self.body["details"] = {"causes": causes}
        self.code = code


@dataclass(frozen=True)
class ResourceType:
    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    schema: dict[str, Any] | None
    controller: str
    """crossplane, kratix or none."""

    @property
    def qualified(self) -> str:
        return f"{self.kind}.{self.group}"


@dataclass
class Behaviour:
    """How the simulated controller treats new objects."""

    ready_after: int = 2
    never_ready: bool = False
    fail_with: str | None = None
    delete_after: int = 2
    secret_data: dict[str, str] = field(default_factory=dict)
    secret_name: str | None = None
    """Where the credentials go; None: `spec.writeConnectionSecretToRef.name`."""
    status_fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class Stored:
    obj: dict[str, Any]
    type: ResourceType
    behaviour: Behaviour
    owners: dict[str, dict[Path, Any]] = field(default_factory=dict)
    polls: int = 0
    delete_polls: int = 0


def leaves(node: Any, prefix: Path = ()) -> dict[Path, Any]:
    if isinstance(node, dict) and node:
        found: dict[Path, Any] = {}
        for key, child in node.items():
            found.update(leaves(child, (*prefix, str(key))))
        return found
    return {prefix: node}


def _set(obj: dict[str, Any], path: Path, value: Any) -> None:
    for part in path[:-1]:
        obj = obj.setdefault(part, {})
    obj[path[-1]] = copy.deepcopy(value)


def _remove(obj: dict[str, Any], path: Path) -> None:
    parents = [obj]
    for part in path[:-1]:
        if not isinstance(parents[-1].get(part), dict):
            return
        parents.append(parents[-1][part])
    parents[-1].pop(path[-1], None)
    for depth in range(len(parents) - 1, 0, -1):  # drop maps left empty
        if not parents[depth]:
            parents[depth - 1].pop(path[depth - 1], None)


def unknown_fields(node: Any, schema: dict[str, Any], path: str = "") -> list[str]:
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        return []
    if isinstance(node, list):
        return [
            f
            for i, item in enumerate(node)
            for f in unknown_fields(item, schema.get("items") or {}, f"{path}[{i}]")
        ]
    if not isinstance(node, dict) or path == ".metadata":
        return []
    properties, extra = schema.get("properties"), schema.get("additionalProperties")
    found = []
    for key, child in node.items():
        if properties is not None and key in properties:
            found += unknown_fields(child, properties[key], f"{path}.{key}")
        elif isinstance(extra, dict):
            found += unknown_fields(child, extra, f"{path}.{key}")
        elif properties is not None:
            found.append(f"{path}.{key}")
    return found


def prune(node: Any, schema: dict[str, Any]) -> Any:
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        return node
    if isinstance(node, list):
        return [prune(item, schema.get("items") or {}) for item in node]
    properties, extra = schema.get("properties"), schema.get("additionalProperties")
    if not isinstance(node, dict) or (properties is None and not isinstance(extra, dict)):
        return node
    kept = {}
    for key, child in node.items():
        if properties is not None and key in properties:
            kept[key] = child if key == "metadata" else prune(child, properties[key])
        elif isinstance(extra, dict):
            kept[key] = prune(child, extra)
    return kept


def schema_causes(obj: dict[str, Any], schema: dict[str, Any]) -> list[dict[str, str]]:
    causes = []
    for error in jsonschema.Draft7Validator(schema).iter_errors(obj):
        where = ".".join(str(p) for p in error.absolute_path)
        if error.validator == "required":
            missing = next(k for k in error.validator_value if k not in error.instance)  # type: ignore[union-attr]
            field_name = f"{where}.{missing}" if where else missing
            causes.append(
                {"reason": "FieldValueRequired", "message": "Required value", "field": field_name}
            )
        elif error.validator == "enum":
            allowed = ", ".join(f'"{v}"' for v in error.validator_value)  # type: ignore[union-attr]
            causes.append(
                {
                    "reason": "FieldValueNotSupported",
                    "message": f'Unsupported value: "{error.instance}": '
                    f"supported values: {allowed}",
                    "field": where,
                }
            )
        elif error.validator == "type":
            causes.append(
                {
                    "reason": "FieldValueInvalid",
                    "message": f'Invalid value: "{type(error.instance).__name__}": {where} in body '
                    f'must be of type {error.validator_value}: "{error.instance}"',
                    "field": where,
                }
            )
        else:
            causes.append(
                {
                    "reason": "FieldValueInvalid",
                    "message": f"Invalid value: {error.message}",
                    "field": where,
                }
            )
    return causes


def check_apply(
    body: Any, rtype: ResourceType, namespace: str | None, name: str, validation: str
) -> tuple[dict[str, Any], list[str]]:
    """The apply configuration as the server keeps it, and the warnings for the answer."""
    if not isinstance(body, dict):
        raise ApiError(400, "BadRequest", "the body of an apply patch must be an object")
    if body.get("apiVersion") != f"{rtype.group}/{rtype.version}" or body.get("kind") != rtype.kind:
        raise ApiError(
            400,
            "BadRequest",
            f"apiVersion and kind must be {rtype.group}/{rtype.version} {rtype.kind}",
        )
    metadata = body.get("metadata") or {}
    if metadata.get("name") != name:
        raise ApiError(
            400,
            "BadRequest",
            f"the name of the object ({metadata.get('name')}) "
            f"does not match the name on the URL ({name})",
        )
    if metadata.get("namespace", namespace) != namespace:
        raise ApiError(
            400,
            "BadRequest",
            "the namespace of the provided object does not match the namespace sent on the request",
        )
    config = {k: v for k, v in body.items() if k != "status"}
    warnings: list[str] = []
    if rtype.schema is not None:
        unknown = unknown_fields(config, rtype.schema)
        if unknown and validation == "Strict":
            raise ApiError(
                400,
                "BadRequest",
                f"failed to create typed patch object ({namespace}/{name}; "
                f"{rtype.group}/{rtype.version}, Kind={rtype.kind}): "
                f"{unknown[0]}: field not declared in schema",
            )
        if validation != "Ignore":
            warnings = [f'unknown field "{f.lstrip(".")}"' for f in unknown]
        config = prune(config, rtype.schema)
        causes = schema_causes(config, rtype.schema)
        if causes:
            listed = ", ".join(f"{c['field']}: {c['message']}" for c in causes)
            raise ApiError(
                422, "Invalid", f'{rtype.qualified} "{name}" is invalid: [{listed}]', causes
            )
    return config, warnings


def conflicts(stored: Stored, config: dict[str, Any], manager: str) -> list[dict[str, str]]:
    found = []
    for path, value in leaves(config).items():
        for other, owned in stored.owners.items():
            if other != manager and path in owned and owned[path] != value:
                api_version = stored.obj["apiVersion"]
                field_name = "." + ".".join(path)
                found.append(
                    {
                        "reason": "FieldManagerConflict",
                        "message": f'conflict with "{other}" using {api_version}',
                        "field": field_name,
                    }
                )
    return found


def merged(
    stored: Stored | None, config: dict[str, Any], manager: str
) -> tuple[dict[str, Any], dict[str, dict[Path, Any]]]:
    """The object after `manager` applied `config` (with force), and the new ownership."""
    obj = copy.deepcopy(stored.obj) if stored else {}
    owners = copy.deepcopy(stored.owners) if stored else {}
    new = leaves(config)
    for path in set(owners.get(manager, {})) - set(new):
        if not any(path in owned for other, owned in owners.items() if other != manager):
            _remove(obj, path)
    for path, value in new.items():
        _set(obj, path, value)
        for other, owned in owners.items():
            if other != manager:
                owned.pop(path, None)
    owners[manager] = new
    return obj, owners


def server_fields(
    obj: dict[str, Any],
    before: dict[str, Any] | None,
    version: int,
    owners: dict[str, dict[Path, Any]],
) -> None:
    metadata = obj["metadata"]
    old = (before or {}).get("metadata") or {}
    metadata["uid"] = old.get("uid") or str(uuid.uuid4())
    metadata["creationTimestamp"] = old.get("creationTimestamp") or NOW
    changed = before is None or before.get("spec") != obj.get("spec")
    metadata["generation"] = int(old.get("generation", 0)) + (1 if changed else 0)
    metadata["resourceVersion"] = str(version)
    metadata["managedFields"] = [
        {
            "manager": m,
            "operation": "Apply",
            "apiVersion": obj["apiVersion"],
            "time": NOW,
            "fieldsType": "FieldsV1",
        }
        for m in sorted(owners)
    ]
    if before and "status" in before:
        obj["status"] = before["status"]


def _condition(kind: str, status: str, reason: str, message: str = "") -> dict[str, str]:
    return {
        "type": kind,
        "status": status,
        "reason": reason,
        "message": message,
        "lastTransitionTime": NOW,
    }


def reconcile(stored: Stored) -> dict[str, str] | None:
    """One step of the controller; the Secret data to write when the object became ready."""
    stored.polls += 1
    how, status = stored.behaviour, stored.obj.setdefault("status", {})
    ready = not how.never_ready and how.fail_with is None and stored.polls >= how.ready_after
    if stored.type.controller == "crossplane":
        status["conditions"] = [
            _condition("Synced", "False", "ReconcileError", how.fail_with)
            if how.fail_with
            else _condition("Synced", "True", "ReconcileSuccess"),
            _condition("Ready", "True", "Available")
            if ready
            else _condition("Ready", "False", "Creating"),
        ]
    elif stored.type.controller == "kratix":
        if how.fail_with:
            status["conditions"] = [
                _condition(
                    "ConfigureWorkflowCompleted",
                    "False",
                    "ConfigureWorkflowFailed",
                    f"A Configure Pipeline has failed: {how.fail_with}",
                ),
                _condition("Reconciled", "False", "ConfigureWorkflowFailed", "Failing"),
            ]
        elif ready:
            status["conditions"] = [
                _condition(
                    "ConfigureWorkflowCompleted",
                    "True",
                    "PipelinesExecutedSuccessfully",
                    "Pipelines completed",
                ),
                _condition(
                    "WorksSucceeded",
                    "True",
                    "WorksSucceeded",
                    "All works associated with this resource are ready",
                ),
                _condition("Reconciled", "True", "Reconciled", "Reconciled"),
            ]
        else:
            status["conditions"] = [
                _condition(
                    "ConfigureWorkflowCompleted",
                    "False",
                    "PipelinesInProgress",
                    "Pipelines are still in progress",
                ),
                _condition("Reconciled", "Unknown", "WorkflowPending", "Pending"),
            ]
            status["message"] = "Pending"
    if not ready:
        return None
    status.update(copy.deepcopy(how.status_fields))
    return {k: base64.b64encode(v.encode()).decode() for k, v in how.secret_data.items()}
