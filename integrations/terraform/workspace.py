"""One environment's Terraform working directory: init, plan, apply, destroy, outputs.

The directory holds a copy of the module, a `backend.tf.json` the workspace writes and the
saved plan; with `LocalState` also the state. With `PgBackend` the state lives in its own
schema on a PostgreSQL server, and the connection string reaches Terraform only through
the `PG_CONN_STR` variable of the child process: not on its command line (visible to every
user in `ps`) and not in `.terraform/` (where `-backend-config` values are stored in clear).
Variables travel the same way, as `TF_VAR_*`.

Terraform locks the state for every command that writes it and, with the default
`-lock-timeout=0s`, a second run fails at once: `TerraformLockError`. Serialising runs of
one environment is the caller's job; the lock is what makes a mistake there harmless.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from integrations.terraform.errors import MalformedOutput, TerraformError
from integrations.terraform.events import (
    ChangeSummary,
    Diagnostic,
    Event,
    Output,
    PlanSummary,
    parse_line,
    parse_outputs,
)
from integrations.terraform.runner import TerraformRunner

log = logging.getLogger(__name__)

PLAN_FILE = "planfile"
BACKEND_FILE = "backend.tf.json"
Progress = Callable[[Event], None]
_VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
# What a module copy leaves behind: another run's plugins, state and plan.
_NOT_COPIED = shutil.ignore_patterns(".terraform", "*.tfstate", "*.tfstate.*", PLAN_FILE)


@dataclass(frozen=True, slots=True)
class LocalState:
    """State in a file of the working directory: tests and single-host deployments."""

    path: str = "terraform.tfstate"


@dataclass(frozen=True, slots=True)
class PgBackend:
    """Terraform's built-in `pg` backend: one schema per environment on a shared server."""

    conn_str: str = field(repr=False)
    schema_name: str

    def __post_init__(self) -> None:
        if not _SCHEMA_NAME.fullmatch(self.schema_name):
            raise ValueError("schema_name must be a lowercase PostgreSQL identifier")


Backend = LocalState | PgBackend


def backend_config(backend: Backend) -> dict[str, object]:
    """The `backend.tf.json` document for `backend`; never holds a credential."""
    if isinstance(backend, PgBackend):
        settings: dict[str, object] = {"pg": {"schema_name": backend.schema_name}}
    else:
        settings = {"local": {"path": backend.path}}
    return {"terraform": {"backend": settings}}


class TerraformWorkspace:
    """Runs Terraform for one environment in `directory`; one command at a time.

    `env` is the whole environment Terraform and its provisioners get (plus Terraform's
    automation switches): PATH, and whatever secrets the module reads, e.g. PGPASSWORD.
    """

    def __init__(
        self,
        directory: Path,
        *,
        runner: TerraformRunner,
        backend: Backend | None = None,
        env: Mapping[str, str] | None = None,
        timeout_seconds: float = 600.0,
    ) -> None:
        self.directory = directory
        self._runner = runner
        self._backend = backend or LocalState()
        self._env = dict(env or {})
        self._timeout = timeout_seconds

    def init(self, *, module: Path | None = None, progress: Progress | None = None) -> None:
        """Copies `module` in (when given), writes the backend and runs `terraform init`.

        The directory is made private to the bot: the saved plan holds the variables, and a
        local state the sensitive outputs, in clear text (Terraform's own behaviour).
        """
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.directory.chmod(0o700)
        if module is not None:
            shutil.copytree(module, self.directory, dirs_exist_ok=True, ignore=_NOT_COPIED)
        config = json.dumps(backend_config(self._backend), indent=2) + "\n"
        (self.directory / BACKEND_FILE).write_text(config, encoding="utf-8")
        self._stream(["init", "-input=false", "-json"], progress=progress)

    def plan(
        self,
        variables: Mapping[str, object] | None = None,
        *,
        destroy: bool = False,
        progress: Progress | None = None,
    ) -> PlanSummary:
        """Plans and saves the plan to `PLAN_FILE`, for `apply` to carry out unchanged."""
        args = ["plan", "-input=false", "-json", f"-out={PLAN_FILE}"]
        events = self._stream(
            [*args, *(["-destroy"] if destroy else [])], variables=variables, progress=progress
        )
        return PlanSummary.from_events(events)

    def apply(self, *, progress: Progress | None = None) -> ChangeSummary:
        """Applies the saved plan; Terraform refuses it if the state changed since."""
        events = self._stream(["apply", "-input=false", "-json", PLAN_FILE], progress=progress)
        (self.directory / PLAN_FILE).unlink(missing_ok=True)
        return _last_summary(events, "apply")

    def destroy(
        self, variables: Mapping[str, object] | None = None, *, progress: Progress | None = None
    ) -> ChangeSummary:
        """Destroys everything in the state (the module still needs its variables)."""
        args = ["destroy", "-input=false", "-auto-approve", "-json"]
        events = self._stream(args, variables=variables, progress=progress)
        return _last_summary(events, "destroy")

    def outputs(self) -> dict[str, Output]:
        """The root module's outputs; sensitive values stay wrapped and are never logged."""
        lines: list[str] = []
        result = self._runner.run(
            ["output", "-json"],
            cwd=self.directory,
            env=self._run_env(None),
            timeout=self._timeout,
            on_line=lines.append,
        )
        if result.returncode != 0:
            raise TerraformError(f"terraform output exited with {result.returncode}")
        return parse_outputs("\n".join(lines))

    def state_addresses(self) -> list[str]:
        """The resource addresses in the state (`terraform state list`)."""
        lines: list[str] = []
        result = self._runner.run(
            ["state", "list"],
            cwd=self.directory,
            env=self._run_env(None),
            timeout=self._timeout,
            on_line=lines.append,
        )
        if result.returncode != 0:
            raise TerraformError(f"terraform state list exited with {result.returncode}")
        return [line for line in lines if line]

    def _stream(
        self,
        args: Sequence[str],
        *,
        variables: Mapping[str, object] | None = None,
        progress: Progress | None,
    ) -> list[Event]:
        events: list[Event] = []
        skipped = 0

        def on_line(line: str) -> None:
            nonlocal skipped
            if not line.strip():
                return
            try:
                event = parse_line(line)
            except MalformedOutput:
                skipped += 1  # plain text Terraform printed outside -json: may quote values
                return
            if event is not None:
                events.append(event)
                if progress is not None:
                    progress(event)

        result = self._runner.run(
            args,
            cwd=self.directory,
            env=self._run_env(variables),
            timeout=self._timeout,
            on_line=on_line,
        )
        if skipped:
            log.debug("terraform %s: skipped %d lines that were not JSON", args[0], skipped)
        if result.returncode != 0:
            diagnostics = [e for e in events if isinstance(e, Diagnostic)]
            fallback = f"terraform {args[0]} exited with {result.returncode}"
            raise TerraformError.from_diagnostics(diagnostics, fallback)
        return events

    def _run_env(self, variables: Mapping[str, object] | None) -> dict[str, str]:
        env = dict(self._env)
        if isinstance(self._backend, PgBackend):
            env["PG_CONN_STR"] = self._backend.conn_str
        for name, value in (variables or {}).items():
            if not _VARIABLE_NAME.fullmatch(name):
                raise ValueError(f"not a Terraform variable name: {name[:40]!r}")
            # Strings as they are; anything else as JSON, which Terraform reads as HCL.
            env[f"TF_VAR_{name}"] = value if isinstance(value, str) else json.dumps(value)
        return env


def _last_summary(events: Sequence[Event], operation: str) -> ChangeSummary:
    summaries = [e for e in events if isinstance(e, ChangeSummary)]
    return summaries[-1] if summaries else ChangeSummary(0, 0, 0, operation)
