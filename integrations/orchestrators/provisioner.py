"""A new-db engine whose resources the platform's orchestrator makes (`engines.X.driver`).

new-db's provisioning job calls the `Provisioner` steps; here `create_resource` asks the
orchestrator to apply and waits until it is ready, the user and grant steps are the
orchestrator's business (nothing to do), `credentials` reads its outputs, and `drop` asks
it to destroy and waits until it is gone. The bot's generated password is not used: the
orchestrator makes its own, handed over from its outputs. `apply` is idempotent for the
name, so a job resumed after a crash finds the same run again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from integrations.orchestrators.base import (
    Handle,
    Orchestrator,
    OrchestratorRequest,
    Phase,
    Status,
)
from integrations.orchestrators.waiting import Polling, wait_for
from integrations.provisioning import names
from integrations.provisioning_protocols import Credentials, ResourceSpec

_PROBE = "platform-bot-probe"
"""A name no resource has: `check` plans it to see that the orchestrator answers."""


@dataclass
class OrchestratedProvisioner:
    engine: str
    orchestrator: Orchestrator
    tier: str = "any"
    team: str = "platform"
    parameters: Mapping[str, str] = field(default_factory=dict)
    polling: Polling = field(default_factory=Polling)
    _handles: dict[str, Handle] = field(default_factory=dict, repr=False)

    def check(self) -> None:
        self.orchestrator.plan(self._request(_PROBE))

    def exists(self, spec: ResourceSpec) -> bool:
        # The orchestrator owns its names and refuses a taken one when asked to apply.
        names.validate(self.engine, spec.name)
        return False

    def create_resource(self, spec: ResourceSpec) -> None:
        self._wait(self._handle(spec), Phase.READY)

    def create_user(self, spec: ResourceSpec, password: str) -> None:
        """The orchestrator makes the user with the resource."""

    def grant(self, spec: ResourceSpec) -> None:
        """The orchestrator grants what its composition or promise says."""

    def credentials(self, spec: ResourceSpec, password: str) -> Credentials:
        made = self.orchestrator.outputs(self._handle(spec))
        values, secrets = made.values, made.secrets
        port = values.get("port", "0")
        return Credentials(
            engine=self.engine,
            host=values.get("host") or values.get("endpoint", ""),
            port=int(port) if port.isdigit() else 0,
            database=values.get("database", spec.name),
            username=secrets.get("username") or values.get("username", ""),
            password=secrets.get("password", ""),
            url=secrets.get("url") or secrets.get("uri", ""),
            notes=f"made by {self.orchestrator.name}",
        )

    def drop(self, spec: ResourceSpec) -> None:
        handle = self._handle(spec)
        self.orchestrator.destroy(handle)
        self._wait(handle, Phase.GONE)
        self._handles.pop(spec.name, None)

    def _request(self, name: str) -> OrchestratorRequest:
        return OrchestratorRequest(
            name=name, team=self.team, tier=self.tier, template=self.engine,
            parameters=dict(self.parameters),
        )  # fmt: skip

    def _handle(self, spec: ResourceSpec) -> Handle:
        names.validate(self.engine, spec.name)
        if spec.name not in self._handles:
            # Idempotent: after a restart this finds the run the first attempt started.
            self._handles[spec.name] = self.orchestrator.apply(self._request(spec.name))
        return self._handles[spec.name]

    def _wait(self, handle: Handle, until: Phase) -> Status:
        return wait_for(self.orchestrator, handle, until, self.polling)
