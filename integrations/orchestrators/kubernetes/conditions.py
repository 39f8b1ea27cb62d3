"""Reading an object's `status` as a `Status`: Crossplane's and Kratix's conditions.

Crossplane (claims, composite resources and managed resources alike) sets two conditions:
`Synced` (the last reconcile worked; False with reason `ReconcileError` and the error in
`message`) and `Ready` (the external resource is usable; reasons `Creating`, `Available`,
`Unavailable`, `Deleting`). Kratix resource requests have `ConfigureWorkflowCompleted`
(False `PipelinesInProgress` while the configure pipelines run, False
`ConfigureWorkflowFailed` when one failed), `WorksSucceeded` and `Reconciled` (True when
both are); older Kratix releases only set `PipelineCompleted`. The pipeline may write a
short `status.message` for the requester, which is shown as the progress.

An object with `metadata.deletionTimestamp` is being removed: PROGRESSING until it is gone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from integrations.orchestrators.base import Phase, Status
from integrations.orchestrators.kubernetes.config import Flavour

MAX_MESSAGE = 300


def read_status(obj: Mapping[str, Any], flavour: Flavour) -> Status:
    metadata = obj.get("metadata") or {}
    if metadata.get("deletionTimestamp"):
        finalizers = ", ".join(map(str, metadata.get("finalizers") or []))
        return Status(
            Phase.PROGRESSING, f"Deleting{f' (waiting for {finalizers})' if finalizers else ''}"
        )
    status = obj.get("status") or {}
    conditions = _conditions(status)
    if flavour is Flavour.KRATIX:
        return _kratix(conditions, str(status.get("message") or ""))
    return _crossplane(conditions)


def _conditions(status: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    found: dict[str, Mapping[str, Any]] = {}
    for condition in status.get("conditions") or []:
        if isinstance(condition, dict) and isinstance(condition.get("type"), str):
            found[condition["type"]] = condition
    return found


def _short(text: Any) -> str:
    flat = " ".join(str(text or "").split())
    return flat if len(flat) <= MAX_MESSAGE else flat[: MAX_MESSAGE - 1] + "…"


def _crossplane(conditions: Mapping[str, Mapping[str, Any]]) -> Status:
    synced, ready = conditions.get("Synced"), conditions.get("Ready")
    if synced and synced.get("status") == "False" and synced.get("reason") == "ReconcileError":
        return Status(Phase.FAILED, _short(synced.get("message")) or "ReconcileError")
    if ready and ready.get("status") == "True":
        return Status(Phase.READY, "Ready")
    if not synced and not ready:
        return Status(Phase.PROGRESSING, "Waiting for Crossplane to reconcile it")
    if synced and synced.get("status") == "True":
        return Status(Phase.PROGRESSING, f"Synced, waiting for Ready{_reason(ready)}")
    return Status(Phase.PROGRESSING, f"Waiting to sync{_reason(synced)}")


def _reason(condition: Mapping[str, Any] | None) -> str:
    if not condition:
        return ""
    reason, message = _short(condition.get("reason")), _short(condition.get("message"))
    if reason and message:
        return f" ({reason}: {message})"
    return f" ({reason or message})" if reason or message else ""


def _kratix(conditions: Mapping[str, Mapping[str, Any]], message: str) -> Status:
    configure = conditions.get("ConfigureWorkflowCompleted")
    works, reconciled = conditions.get("WorksSucceeded"), conditions.get("Reconciled")
    if configure and configure.get("reason") == "ConfigureWorkflowFailed":
        return Status(
            Phase.FAILED, _short(configure.get("message")) or "a configure pipeline failed"
        )
    if works and works.get("status") == "False" and works.get("reason") == "WorksFailing":
        return Status(Phase.FAILED, _short(works.get("message")) or "works failed")
    if reconciled is not None:
        done = reconciled.get("status") == "True"
    else:  # releases before the Reconciled condition
        legacy = configure or conditions.get("PipelineCompleted")
        done = bool(legacy) and legacy.get("status") == "True"  # type: ignore[union-attr]
    if done:
        return Status(Phase.READY, _short(message) or "Reconciled")
    if message:
        return Status(Phase.PROGRESSING, _short(message))
    step = configure or conditions.get("PipelineCompleted") or works
    detail = _short(step.get("message")) if step else ""
    return Status(Phase.PROGRESSING, detail or "Waiting for Kratix to run the configure workflow")
