"""The in-memory stand-in for `provisioning_protocols.Provisioner`, `DataCloner` and `SqlRunner`.

Kept apart from `fakes.py` (which re-exports it) so that neither module outgrows a screenful
of classes; it behaves like the real provisioners at the protocol boundary.
"""

from __future__ import annotations

import threading

from integrations.errors import IntegrationError, ProviderRejected, ProviderUnavailable
from integrations.provisioning import names
from integrations.provisioning_protocols import Credentials, PlanLimits, ResourceSpec


class FakeProvisioner:
    """One engine's server held in memory, with the real provisioners' contract.

    Names are validated like the real ones (same `ProviderRejected`), every step is
    idempotent, `drop` of a missing resource is fine. `available = False` makes every call
    raise `ProviderUnavailable`; `fail_next(method, error)` makes the next call of `method`
    raise `error` once (to exercise rollback mid-way); `calls` lists (method, name) in order.
    `clones` maps each cloned resource to its source; `sql_runs` lists (name, SQL) run.
    """

    def __init__(self, engine: str = "postgres", *, host: str = "127.0.0.1", port: int = 5432):
        self.engine = engine
        self.host = host
        self.port = port
        self.resources: dict[str, PlanLimits] = {}
        self.passwords: dict[str, str] = {}
        self.granted: set[str] = set()
        self.clones: dict[str, str] = {}
        self.sql_runs: list[tuple[str, str]] = []
        self.available = True
        self.calls: list[tuple[str, str]] = []
        self._failures: dict[str, IntegrationError] = {}
        self._lock = threading.Lock()

    def fail_next(self, method: str, error: IntegrationError | None = None) -> None:
        self._failures[method] = error or ProviderRejected(self.engine, f"{method} failed")

    def check(self) -> None:
        self._enter("check", None)

    def exists(self, spec: ResourceSpec) -> bool:
        name = self._enter("exists", spec)
        with self._lock:
            return name in self.resources or name in self.passwords

    def create_resource(self, spec: ResourceSpec) -> None:
        name = self._enter("create_resource", spec)
        with self._lock:
            self.resources[name] = spec.limits

    def clone_resource(self, source: ResourceSpec, target: ResourceSpec) -> None:
        name = self._enter("clone_resource", target)
        origin = names.validate(self.engine, source.name)
        with self._lock:
            if origin not in self.resources or origin == name:
                raise ProviderRejected(self.engine, f"clone failed: no source {origin} to copy")
            self.resources[name] = target.limits
            self.clones[name] = origin

    def run_sql(self, spec: ResourceSpec, sql_text: str) -> None:
        name = self._enter("run_sql", spec)
        with self._lock:
            if name not in self.resources:
                raise ProviderRejected(self.engine, f"run SQL failed: {name} does not exist")
            self.sql_runs.append((name, sql_text))

    def create_user(self, spec: ResourceSpec, password: str) -> None:
        name = self._enter("create_user", spec)
        with self._lock:
            self.passwords[name] = password

    def grant(self, spec: ResourceSpec) -> None:
        name = self._enter("grant", spec)
        with self._lock:
            if name not in self.resources or name not in self.passwords:
                raise ProviderRejected(self.engine, f"grant failed: {name} is not created yet")
            self.granted.add(name)

    def credentials(self, spec: ResourceSpec, password: str) -> Credentials:
        name = self._enter("credentials", spec)
        return Credentials(
            engine=self.engine,
            host=self.host,
            port=self.port,
            database=name,
            username=name,
            password=password,
            url=f"{self.engine}://{name}:{password}@{self.host}:{self.port}/{name}",
            notes=f"fake {self.engine} resource {name}",
        )

    def drop(self, spec: ResourceSpec) -> None:
        name = self._enter("drop", spec)
        with self._lock:
            self.resources.pop(name, None)
            self.passwords.pop(name, None)
            self.granted.discard(name)
            self.clones.pop(name, None)

    def _enter(self, method: str, spec: ResourceSpec | None) -> str:
        name = "" if spec is None else names.validate(self.engine, spec.name)
        with self._lock:
            self.calls.append((method, name))
            failure = self._failures.pop(method, None)
        if not self.available:
            raise ProviderUnavailable(self.engine, f"{method} failed: server is down")
        if failure is not None:
            raise failure
        return name
