"""A fake Kubernetes API server for the orchestrator's contract tests (a threaded HTTP server).

It serves only what the orchestrator uses, as the Kubernetes API defines it:

    GET    /apis/{group}/{version}                                       APIResourceList
    PATCH  /apis/{group}/{version}[/namespaces/{ns}]/{plural}/{name}      server-side apply
    GET    the same path                                                 the object
    DELETE the same path                                                 deletionTimestamp set
    GET    /api/v1/namespaces/{ns}/secrets/{name}                        a Secret

and refuses what the API server would: no bearer token (401), a PATCH that is not
`application/apply-patch+yaml` (415), an apply without `fieldManager` (422), a body whose
name or namespace differs from the URL (400), an unknown field under `fieldValidation=Strict`
(400), a value the CRD's `openAPIV3Schema` refuses (422 with causes), another manager's field
without `force=true` (409 with causes), an unknown resource or namespace (404). Errors are
`Status` objects. `dryRun=All` checks everything and stores nothing. A simulated controller
moves the object's conditions on each time it is read (see `Behaviour`) and finishes a
deletion after some reads. `fail_next` queues 5xx/429 answers.
"""

from __future__ import annotations

import copy
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

from tests.integrations.orchestrators.fake_kubernetes_objects import (
    NOW,
    ApiError,
    Behaviour,
    ResourceType,
    Stored,
    check_apply,
    conflicts,
    merged,
    reconcile,
    server_fields,
)

TOKEN = "fake-cluster-token"
APPLY = "application/apply-patch+yaml"
_OBJECT = re.compile(r"^/apis/([^/]+)/([^/]+)(?:/namespaces/([^/]+))?/([^/]+)/([^/]+)$")
_GROUP = re.compile(r"^/apis/([^/]+)/([^/]+)$")
_SECRET = re.compile(r"^/api/v1/namespaces/([^/]+)/secrets/([^/]+)$")


class FakeKubernetes:
    def __init__(self, *, namespaces: tuple[str, ...] = ("team-orders",)) -> None:
        self.namespaces = set(namespaces)
        self.types: dict[tuple[str, str, str], ResourceType] = {}
        self.objects: dict[tuple[str, str, str, str, str], Stored] = {}
        self.secrets: dict[tuple[str, str], dict[str, Any]] = {}
        self.behaviour = Behaviour()
        self.requests: list[tuple[str, str, dict[str, list[str]], str]] = []
        self.token = TOKEN
        self._faults: list[tuple[int, str | None]] = []
        self._version = 0
        self._lock = threading.Lock()
        self.url = ""

    def install_crd(
        self, crd: dict[str, Any] | Path, *, controller: str = "crossplane"
    ) -> ResourceType:
        document = yaml.safe_load(crd.read_text()) if isinstance(crd, Path) else crd
        spec, rtype = document["spec"], None
        for version in spec["versions"]:
            rtype = ResourceType(
                spec["group"],
                version["name"],
                spec["names"]["kind"],
                spec["names"]["plural"],
                spec.get("scope", "Namespaced") == "Namespaced",
                version["schema"]["openAPIV3Schema"],
                controller,
            )
            self.types[(rtype.group, rtype.version, rtype.plural)] = rtype
        assert rtype is not None
        return rtype

    def fail_next(self, code: int, *, times: int = 1, retry_after: str | None = None) -> None:
        self._faults.extend([(code, retry_after)] * times)

    def stored(
        self, plural: str, name: str, namespace: str | None = "team-orders"
    ) -> dict[str, Any] | None:
        for (_, _, ns, p, n), stored in self.objects.items():
            if (p, n, ns) == (plural, name, namespace or ""):
                return stored.obj
        return None

    def remove(self, plural: str, name: str, namespace: str | None = "team-orders") -> None:
        """Someone deletes the object outside the bot, finalizers and all."""
        for key in [
            k for k in self.objects if (k[3], k[4], k[2]) == (plural, name, namespace or "")
        ]:
            del self.objects[key]

    def apply_as(self, manager: str, manifest: dict[str, Any], plural: str) -> None:
        """Another field manager (a person's `kubectl apply`) applies with force."""
        group, version = manifest["apiVersion"].split("/")
        namespace = manifest["metadata"].get("namespace")
        query = {"fieldManager": [manager], "force": ["true"]}
        with self._lock:
            self._apply(
                self.types[(group, version, plural)],
                namespace,
                manifest["metadata"]["name"],
                json.dumps(manifest).encode(),
                query,
            )

    @contextmanager
    def running(self) -> Iterator[FakeKubernetes]:
        fake = self

        class Handler(_Handler):
            api = fake

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
        thread.start()
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()
            thread.join()

    def handle(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: bytes,
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        with self._lock:
            self.requests.append((method, path, query, headers.get("content-type", "")))
            if headers.get("authorization") != f"Bearer {self.token}":
                raise ApiError(401, "Unauthorized", "Unauthorized")
            if self._faults:
                code, retry_after = self._faults.pop(0)
                reason = "TooManyRequests" if code == 429 else "ServiceUnavailable"
                extra = {"Retry-After": retry_after} if retry_after else {}
                return code, ApiError(code, reason, "the server is busy").body, extra
            return self._route(method, path, query, headers, body)

    def _route(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: bytes,
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        if (match := _SECRET.match(path)) and method == "GET":
            secret = self.secrets.get((match.group(1), match.group(2)))
            if secret is None:
                raise ApiError(404, "NotFound", f'secrets "{match.group(2)}" not found')
            return 200, copy.deepcopy(secret), {}
        if (match := _GROUP.match(path)) and method == "GET":
            return 200, self._discovery(match.group(1), match.group(2)), {}
        match = _OBJECT.match(path)
        rtype = self.types.get((match.group(1), match.group(2), match.group(4))) if match else None
        if match is None or rtype is None or rtype.namespaced != bool(match.group(3)):
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        namespace, name = match.group(3), match.group(5)
        if namespace is not None and namespace not in self.namespaces:
            raise ApiError(404, "NotFound", f'namespaces "{namespace}" not found')
        if method == "PATCH":
            if headers.get("content-type", "").split(";")[0].strip() != APPLY:
                raise ApiError(
                    415,
                    "UnsupportedMediaType",
                    "the body of the request was in an unknown format - "
                    f"accepted media types include: {APPLY}",
                )
            return self._apply(rtype, namespace, name, body, query)
        key = (rtype.group, rtype.version, namespace or "", rtype.plural, name)
        if method == "GET":
            return 200, self._read(key, rtype), {}
        if method == "DELETE":
            return 200, self._delete(key, rtype, query), {}
        raise ApiError(405, "MethodNotAllowed", f"{method} is not supported here")

    def _discovery(self, group: str, version: str) -> dict[str, Any]:
        found = [t for t in self.types.values() if (t.group, t.version) == (group, version)]
        if not found:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        resources = []
        for t in found:
            verbs = ["delete", "get", "list", "patch", "create", "update", "watch"]
            resources.append(
                {
                    "name": t.plural,
                    "singularName": t.kind.lower(),
                    "namespaced": t.namespaced,
                    "kind": t.kind,
                    "verbs": verbs,
                }
            )
            resources.append(
                {
                    "name": f"{t.plural}/status",
                    "singularName": "",
                    "namespaced": t.namespaced,
                    "kind": t.kind,
                    "verbs": ["get", "patch", "update"],
                }
            )
        return {
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": f"{group}/{version}",
            "resources": resources,
        }

    def _apply(
        self,
        rtype: ResourceType,
        namespace: str | None,
        name: str,
        body: bytes,
        query: dict[str, list[str]],
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        manager, dry_run = _apply_options(query)
        validation = (query.get("fieldValidation") or ["Warn"])[0]
        try:
            document = yaml.safe_load(body)
        except yaml.YAMLError:
            raise ApiError(400, "BadRequest", "error decoding YAML") from None
        config, warnings = check_apply(document, rtype, namespace, name, validation)
        key = (rtype.group, rtype.version, namespace or "", rtype.plural, name)
        stored = self.objects.get(key)
        if stored and (query.get("force") or [""])[0] != "true":
            found = conflicts(stored, config, manager)
            if found:
                raise ApiError(
                    409, "Conflict", f"Apply failed with {len(found)} conflict(s)", found
                )
        obj, owners = merged(stored, config, manager)
        self._version += 1
        server_fields(obj, stored.obj if stored else None, self._version, owners)
        if not dry_run:
            if stored:
                stored.obj, stored.owners = obj, owners
            else:
                self.objects[key] = Stored(obj, rtype, copy.deepcopy(self.behaviour), owners)
        headers = {"Warning": ", ".join(f'299 - "{w}"' for w in warnings)} if warnings else {}
        return (200 if stored else 201), copy.deepcopy(obj), headers

    def _read(self, key: tuple[str, str, str, str, str], rtype: ResourceType) -> dict[str, Any]:
        stored = self.objects.get(key)
        if stored is None:
            raise ApiError(404, "NotFound", f'{rtype.plural}.{rtype.group} "{key[4]}" not found')
        if stored.obj["metadata"].get("deletionTimestamp"):
            stored.delete_polls += 1
            if stored.delete_polls >= stored.behaviour.delete_after:
                del self.objects[key]
                raise ApiError(
                    404, "NotFound", f'{rtype.plural}.{rtype.group} "{key[4]}" not found'
                )
            return copy.deepcopy(stored.obj)
        data = reconcile(stored)
        if data is not None:
            self._write_secret(stored, data)
        return copy.deepcopy(stored.obj)

    def _write_secret(self, stored: Stored, data: dict[str, str]) -> None:
        written = (stored.obj.get("spec") or {}).get("writeConnectionSecretToRef") or {}
        name = stored.behaviour.secret_name or written.get("name")
        namespace = written.get("namespace") or stored.obj["metadata"].get("namespace")
        if name and data:
            metadata = {"name": name, "namespace": namespace, "resourceVersion": str(self._version)}
            self.secrets[(namespace, name)] = {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": metadata,
                "type": "connection.crossplane.io/v1alpha1",
                "data": data,
            }

    def _delete(
        self, key: tuple[str, str, str, str, str], rtype: ResourceType, query: dict[str, list[str]]
    ) -> dict[str, Any]:
        stored = self.objects.get(key)
        if stored is None:
            raise ApiError(404, "NotFound", f'{rtype.plural}.{rtype.group} "{key[4]}" not found')
        policy = (query.get("propagationPolicy") or ["Background"])[0]
        if policy not in ("Foreground", "Background", "Orphan"):
            raise ApiError(422, "Invalid", f'propagationPolicy: Unsupported value: "{policy}"')
        metadata = stored.obj["metadata"]
        finalizers = metadata.setdefault("finalizers", [f"finalizer.{rtype.group}"])
        if policy == "Foreground" and "foregroundDeletion" not in finalizers:
            finalizers.append("foregroundDeletion")
        metadata.setdefault("deletionTimestamp", NOW)
        metadata["deletionGracePeriodSeconds"] = 0
        return copy.deepcopy(stored.obj)


def _apply_options(query: dict[str, list[str]]) -> tuple[str, str]:
    """The field manager and dry-run mode, refused as PatchOptions validation would."""
    manager = (query.get("fieldManager") or [""])[0]
    if not manager:
        raise ApiError(
            422,
            "Invalid",
            'PatchOptions.meta.k8s.io "" is invalid: '
            "fieldManager: Required value: is required for apply patch",
            [
                {
                    "reason": "FieldValueRequired",
                    "message": "Required value: is required for apply patch",
                    "field": "fieldManager",
                }
            ],
        )
    dry_run = (query.get("dryRun") or [""])[0]
    if dry_run not in ("", "All"):
        raise ApiError(
            422,
            "Invalid",
            f'dryRun: Unsupported value: "{dry_run}"',
            [
                {
                    "reason": "FieldValueNotSupported",
                    "message": 'supported values: "All"',
                    "field": "dryRun",
                }
            ],
        )
    return manager, dry_run


class _Handler(BaseHTTPRequestHandler):
    api: FakeKubernetes

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            code, answer, extra = self.api.handle(
                self.command, parts.path, parse_qs(parts.query), headers, body
            )
        except ApiError as exc:
            code, answer, extra = exc.code, exc.body, {}
        payload = json.dumps(answer).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_PATCH = do_DELETE = do_POST = do_PUT = _serve
