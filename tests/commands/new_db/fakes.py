"""A provisioner for tests that keeps its state in a JSON file, so it survives kill -9.

`fail_at` makes one step raise (ProviderRejected, or ProviderUnavailable with `down`);
`block_at` makes a step wait until a file appears, to kill a process in the middle of it.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from pathlib import Path
from typing import Any

from integrations.errors import ProviderRejected, ProviderUnavailable
from integrations.provisioning_protocols import Credentials, ResourceSpec


class FileProvisioner:
    def __init__(self, engine: str, state_file: Path) -> None:
        self.engine = engine
        self._file = state_file
        self._lock = threading.Lock()
        self.down = False
        self.fail_at: str | None = None
        self.block_at: str | None = None
        self.release_file: Path | None = None
        self.reached_file: Path | None = None

    def _load(self) -> dict[str, Any]:
        if not self._file.exists():
            return {"resources": {}, "users": {}, "grants": [], "calls": []}
        loaded: dict[str, Any] = json.loads(self._file.read_text())
        return loaded

    def _save(self, state: dict[str, Any]) -> None:
        self._file.write_text(json.dumps(state))

    def _step(self, step: str, spec: ResourceSpec | None = None) -> None:
        if self.down:
            raise ProviderUnavailable(self.engine, f"connection refused during {step}")
        with self._lock:
            state = self._load()
            state["calls"].append(step)
            self._save(state)
        if self.block_at == step:
            if self.reached_file is not None:
                self.reached_file.write_text(step)
            while self.release_file is None or not self.release_file.exists():
                time.sleep(0.02)
        if self.fail_at == step:
            raise ProviderRejected(self.engine, f"refused {step} for {spec.name if spec else ''}")

    def state(self) -> dict[str, Any]:
        with self._lock:
            return self._load()

    def check(self) -> None:
        self._step("check")

    def exists(self, spec: ResourceSpec) -> bool:
        self._step("exists", spec)
        return spec.name in self.state()["resources"]

    def create_resource(self, spec: ResourceSpec) -> None:
        self._step("create_resource", spec)
        with self._lock:
            state = self._load()
            state["resources"][spec.name] = {"limits": spec.limits.connection_limit}
            self._save(state)

    def clone_resource(self, source: ResourceSpec, target: ResourceSpec) -> None:
        """The target as create_resource makes it, holding a copy of the source's rows."""
        self._step("clone_resource", target)
        with self._lock:
            state = self._load()
            copied = dict(state["resources"].get(source.name, {}))
            state["resources"][target.name] = {**copied, "cloned_from": source.name}
            self._save(state)

    def run_sql(self, spec: ResourceSpec, sql_text: str) -> None:
        self._step("run_sql", spec)
        with self._lock:
            state = self._load()
            state["resources"][spec.name]["masked"] = sql_text
            self._save(state)

    def create_user(self, spec: ResourceSpec, password: str) -> None:
        self._step("create_user", spec)
        with self._lock:
            state = self._load()
            # Only a digest: tests compare it, and this file must not hold the password.
            state["users"][spec.name] = hashlib.sha256(password.encode()).hexdigest()
            self._save(state)

    def grant(self, spec: ResourceSpec) -> None:
        self._step("grant", spec)
        with self._lock:
            state = self._load()
            if spec.name not in state["grants"]:
                state["grants"].append(spec.name)
            self._save(state)

    def credentials(self, spec: ResourceSpec, password: str) -> Credentials:
        self._step("credentials", spec)
        return Credentials(
            engine=self.engine,
            host="127.0.0.1",
            port=5555,
            database=spec.name,
            username=f"{spec.name}_app",
            password=password,
            url=f"fake://{spec.name}_app:{password}@127.0.0.1:5555/{spec.name}",
            notes="a test resource",
        )

    def drop(self, spec: ResourceSpec) -> None:
        self._step("drop", spec)
        with self._lock:
            state = self._load()
            state["resources"].pop(spec.name, None)
            state["users"].pop(spec.name, None)
            state["grants"] = [g for g in state["grants"] if g != spec.name]
            self._save(state)
