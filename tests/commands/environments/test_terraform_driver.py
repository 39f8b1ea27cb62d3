"""The terraform driver's runs of Terraform, counted: a module without sensitive outputs is
read from the apply's own stream (no `terraform output` run); a resumed or destroyed
environment reuses its initialised directory."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine

from bot.core.db import Base, SessionFactory, make_session_factory, utcnow
from commands.environments.config import TemplateConfig, TerraformConfig
from commands.environments.drivers.base import EnvShape
from commands.environments.drivers.terraform import TerraformDriver
from commands.environments.models import Environment, EnvResource, ResourceState
from commands.resources.credentials import CredentialBox
from integrations.terraform import LibterraformRunner, RunResult

MODULE = """\
terraform {
  required_version = ">= 1.4"
}

variable "name" {
  type = string
}

resource "terraform_data" "marker" {
  input = var.name
}

output "marker" {
  value = terraform_data.marker.output
}
"""


class Counting(LibterraformRunner):
    def __init__(self) -> None:
        super().__init__()
        self.commands: list[str] = []

    def run(
        self,
        args: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str],
        timeout: float,
        on_line: Callable[[str], None],
    ) -> RunResult:
        self.commands.append(args[0])
        return super().run(args, cwd=cwd, env=env, timeout=timeout, on_line=on_line)


@pytest.fixture
def sessions(tmp_path: Path) -> Iterator[SessionFactory]:
    engine = create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    Base.metadata.create_all(engine)
    factory = make_session_factory(engine)
    with factory.begin() as session:
        session.add(
            Environment(
                id="e1", name="marker-env", live_name="marker-env", request_key="k",
                template="tf", driver="terraform", tier="dev", team="payments",
                requested_by="U1", status="creating", currency="USD", inputs="{}",
                outputs="{}", approvals_needed=0, leftovers=False, created_at=utcnow(),
            )
        )  # fmt: skip
        session.flush()
        session.add(
            EnvResource(
                environment_id="e1", key="module", engine="terraform", plan="module",
                name="marker-env", state=ResourceState.PLANNED,
            )
        )  # fmt: skip
    yield factory
    engine.dispose()


def test_outputs_come_from_the_apply_and_destroy_reuses_the_directory(
    tmp_path: Path, sessions: SessionFactory
) -> None:
    module = tmp_path / "module"
    module.mkdir()
    (module / "main.tf").write_text(MODULE)
    template = TemplateConfig(
        description="a marker", driver="terraform", tiers=["dev"], module=module
    )
    runner = Counting()
    driver = TerraformDriver(
        config=TerraformConfig(work_dir=tmp_path / "work"),
        sessions=sessions,
        box=CredentialBox(Fernet.generate_key()),
        config_dir=tmp_path,
        state_dsn=None,
        runner=runner,
    )
    env = EnvShape("e1", "marker-env", "tf", template, "dev", "payments", {}, ())
    applied = driver.create(env, lambda text: None)
    assert applied.outputs == {"marker": "marker_env"}
    assert runner.commands == ["init", "plan", "apply"]  # no `output` run
    removed = driver.destroy(env, lambda text: None)
    assert removed == ["terraform_data.marker"]
    assert runner.commands[3:] == ["destroy"]  # the directory stayed initialised
    assert not (tmp_path / "work" / "e1").exists()
