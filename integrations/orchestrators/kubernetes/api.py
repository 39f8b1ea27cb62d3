"""The few Kubernetes API calls the orchestrator makes, with retries and the error tree.

    GET    /apis/{group}/{version}                                  discovery (plural, scope)
    PATCH  /apis/{group}/{version}[/namespaces/{ns}]/{plural}/{name}  server-side apply
    GET    the same path                                             read the object
    DELETE the same path ?propagationPolicy=Foreground               start removing it
    GET    /api/v1/namespaces/{ns}/secrets/{name}                    the connection Secret

Every call is idempotent (apply is declarative, a repeated DELETE finds the object gone),
so 429, 5xx and connection failures are retried, waiting Retry-After or an exponential
backoff, before `ProviderUnavailable` (`ProviderRateLimited` for a 429). 401/403 →
`ProviderRejected` about the bot's credentials; 404 → `ProviderNotFound`; 409 →
`ProviderRejected` naming the conflicting field managers; 422 → `ProviderRejected` with
each cause's field and message. Messages carry the API's Status message, never a header.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from integrations.errors import (
    ProviderNotFound,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
)
from integrations.http_errors import json_body

PROVIDER = "kubernetes"
APPLY_CONTENT_TYPE = "application/apply-patch+yaml"
_MANAGER = re.compile(r'conflict with "([^"]+)"')


@dataclass(frozen=True)
class ObjectRef:
    group: str
    version: str
    kind: str
    plural: str
    namespace: str | None
    name: str

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def path(self) -> str:
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        scope = f"/namespaces/{self.namespace}" if self.namespace else ""
        return f"{base}{scope}/{self.plural}/{self.name}"

    @property
    def label(self) -> str:
        return f"{self.kind}/{self.name}"


class KubernetesApi:
    def __init__(
        self,
        client: httpx.Client,
        *,
        retries: int = 3,
        max_backoff: float = 20.0,
        sleep: Callable[[float], None],
    ) -> None:
        self._client = client
        self._retries = retries
        self._max_backoff = max_backoff
        self._sleep = sleep

    def discover(self, group: str, version: str, kind: str) -> tuple[str, bool]:
        """The plural and whether the kind is namespaced, from the API group's discovery."""
        path = f"/apis/{group}/{version}" if group else f"/api/{version}"
        try:
            body = self._call(f"discovering {group}/{version}", "GET", path)
        except ProviderNotFound:
            raise ProviderRejected(
                PROVIDER, f"the cluster does not serve {group}/{version} (is the CRD installed?)"
            ) from None
        for resource in body.get("resources") or []:
            if resource.get("kind") == kind and "/" not in str(resource.get("name", "")):
                return str(resource["name"]), bool(resource.get("namespaced"))
        raise ProviderRejected(PROVIDER, f"the cluster's {group}/{version} has no kind {kind}")

    def apply(
        self,
        ref: ObjectRef,
        manifest: Mapping[str, Any],
        *,
        manager: str,
        force: bool,
        dry_run: bool,
    ) -> dict[str, Any]:
        params = {"fieldManager": manager, "fieldValidation": "Strict"}
        if force:
            params["force"] = "true"
        if dry_run:
            params["dryRun"] = "All"
        what = f"{'checking' if dry_run else 'applying'} {ref.label}"
        try:
            return self._call(
                what,
                "PATCH",
                ref.path,
                params=params,
                content=json.dumps(manifest).encode(),  # JSON is YAML, and unambiguous
                headers={"Content-Type": APPLY_CONTENT_TYPE},
            )
        except ProviderNotFound as exc:
            raise ProviderRejected(
                PROVIDER, f"{what}: {exc.message} (is the CRD installed and the namespace there?)"
            ) from None

    def get(self, ref: ObjectRef) -> dict[str, Any] | None:
        try:
            return self._call(f"reading {ref.label}", "GET", ref.path)
        except ProviderNotFound:
            return None

    def delete(self, ref: ObjectRef) -> bool:
        """Start removing the object; False when it was already gone."""
        try:
            self._call(
                f"deleting {ref.label}",
                "DELETE",
                ref.path,
                params={"propagationPolicy": "Foreground"},
            )
        except ProviderNotFound:
            return False
        return True

    def get_secret(self, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            return self._call(
                f"reading Secret {namespace}/{name}",
                "GET",
                f"/api/v1/namespaces/{namespace}/secrets/{name}",
            )
        except ProviderNotFound:
            return None

    def _call(self, what: str, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        failure: ProviderUnavailable
        for attempt in range(self._retries + 1):
            wait = min(2.0**attempt * 0.5, self._max_backoff)
            try:
                response = self._client.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                failure = ProviderUnavailable(PROVIDER, f"{what} failed: {type(exc).__name__}")
            else:
                if response.status_code != 429 and response.status_code < 500:
                    return _outcome(what, response)
                failure = _unavailable(what, response)
                wait = min(_retry_after(response, wait), self._max_backoff)
            if attempt < self._retries:
                self._sleep(wait)
        raise failure


def _retry_after(response: httpx.Response, default: float) -> float:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "")))
    except ValueError:
        return default  # an HTTP-date or nothing: the API server sends seconds


def _unavailable(what: str, response: httpx.Response) -> ProviderUnavailable:
    status = _status(response)
    message = f"{what} answered {response.status_code} {status.get('reason', '')}".rstrip()
    if response.status_code == 429:
        return ProviderRateLimited(PROVIDER, message, retry_after=_retry_after(response, 1.0))
    return ProviderUnavailable(PROVIDER, message)


def _outcome(what: str, response: httpx.Response) -> dict[str, Any]:
    code = response.status_code
    if code < 300:
        body = json_body(PROVIDER, what, response)
        return body if isinstance(body, dict) else {}
    status = _status(response)
    message = str(status.get("message") or status.get("reason") or "")[:300]
    causes = [c for c in (status.get("details") or {}).get("causes") or [] if isinstance(c, dict)]
    if code in (401, 403):
        raise ProviderRejected(
            PROVIDER, f"the cluster refused the bot's credentials ({code}) when {what}: {message}"
        )
    if code == 404:
        raise ProviderNotFound(PROVIDER, f"{what}: {message or 'not found'}")
    if code == 409:
        managers = sorted({m for c in causes for m in _MANAGER.findall(str(c.get("message", "")))})
        fields = ", ".join(str(c.get("field", "")) for c in causes if c.get("field"))
        if managers:
            raise ProviderRejected(
                PROVIDER, f"{what} conflicts with field manager {', '.join(managers)} on {fields}"
            )
        raise ProviderRejected(PROVIDER, f"{what} conflicts: {message}")
    if code == 422 and causes:
        listed = "; ".join(f"{c.get('field', '?')}: {c.get('message', '')}" for c in causes[:5])
        raise ProviderRejected(
            PROVIDER, f"the cluster found the object invalid ({what}): {listed}"[:600]
        )
    raise ProviderRejected(
        PROVIDER, f"{what} answered {code} {status.get('reason', '')}: {message}"
    )


def _status(response: httpx.Response) -> dict[str, Any]:
    """The API's `Status` object, or an empty one when the body is something else."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) and body.get("kind") == "Status" else {}
