"""Terraform (or OpenTofu) run from Python, one working directory per environment.

The environments feature creates and destroys whole environments with a Terraform module;
this package is the layer below it: it runs the commands, reads Terraform's `-json` stream
into typed events (`events.py`), and turns failures into typed errors (`errors.py`, whose
docstring draws the tree). It imports nothing of the bot.

Usage::

    from integrations.terraform import LibterraformRunner, TerraformWorkspace

    workspace = TerraformWorkspace(
        Path("/var/lib/platform-bot/environments/orders"),
        runner=LibterraformRunner(),  # or BinaryRunner("/usr/local/bin/tofu")
        backend=PgBackend(conn_str=state_dsn, schema_name="env_orders"),  # or LocalState()
        env={"PATH": "/usr/bin:/bin", "PGPASSWORD": admin_password},
        timeout_seconds=900,
    )
    workspace.init(module=Path("examples/terraform/postgres-database"))
    summary = workspace.plan({"name": "orders", "password": password}, progress=post_progress)
    workspace.apply(progress=post_progress)       # the saved plan, exactly as shown
    outputs = workspace.outputs()                 # outputs["password"].value is Sensitive
    workspace.destroy({"name": "orders", "password": password})

Invariants: variables and the backend's connection string reach Terraform through its
environment, never its command line; sensitive outputs are `Sensitive` (repr hides them)
and nothing here logs an output or a line of Terraform's output; every run has a timeout;
a second run on a locked state fails at once with `TerraformLockError`.
"""

from integrations.terraform.errors import (
    MalformedOutput,
    TerraformError,
    TerraformLockError,
    TerraformTimeout,
)
from integrations.terraform.events import (
    ApplyComplete,
    ApplyErrored,
    ApplyStart,
    ChangeSummary,
    Diagnostic,
    Event,
    Output,
    Outputs,
    PlannedChange,
    PlanSummary,
    Sensitive,
    SourcePosition,
    SourceRange,
    parse_line,
    parse_outputs,
)
from integrations.terraform.runner import (
    BinaryRunner,
    LibterraformRunner,
    RunResult,
    TerraformRunner,
)
from integrations.terraform.workspace import (
    Backend,
    LocalState,
    PgBackend,
    Progress,
    TerraformWorkspace,
    backend_config,
)

__all__ = [
    "ApplyComplete",
    "ApplyErrored",
    "ApplyStart",
    "Backend",
    "BinaryRunner",
    "ChangeSummary",
    "Diagnostic",
    "Event",
    "LibterraformRunner",
    "LocalState",
    "MalformedOutput",
    "Output",
    "Outputs",
    "PgBackend",
    "PlanSummary",
    "PlannedChange",
    "Progress",
    "RunResult",
    "Sensitive",
    "SourcePosition",
    "SourceRange",
    "TerraformError",
    "TerraformLockError",
    "TerraformRunner",
    "TerraformTimeout",
    "TerraformWorkspace",
    "backend_config",
    "parse_line",
    "parse_outputs",
]
