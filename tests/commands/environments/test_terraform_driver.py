"""The terraform driver's runs of Terraform, counted: a module without sensitive outputs is
read from the apply's own stream (no `terraform output` run); a resumed or destroyed
environment reuses its initialised directory."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.core.db import SessionFactory
from commands.environments.config import TemplateConfig, TerraformConfig
from commands.environments.drivers.base import EnvShape
from commands.environments.drivers.terraform import TerraformDriver
from commands.resources.credentials import CredentialBox
from integrations.terraform import LibterraformRunner, RunResult
from tests.commands.environments.rows import creating

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

# `module` is relative: the driver reads it in the config's directory, the test's tmp_path.
TEMPLATE = TemplateConfig(
    description="a marker", driver="terraform", tiers=["dev"], module=Path("module")
)
ENV = EnvShape("e1", "marker-env", "tf", TEMPLATE, "dev", "payments", {}, ())


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
    with creating(tmp_path, ENV, driver="terraform", key="module", engine="terraform") as made:
        yield made


def test_outputs_come_from_the_apply_and_destroy_reuses_the_directory(
    tmp_path: Path, sessions: SessionFactory
) -> None:
    module = tmp_path / "module"
    module.mkdir()
    (module / "main.tf").write_text(MODULE)
    runner = Counting()
    driver = TerraformDriver(
        config=TerraformConfig(work_dir=tmp_path / "work"),
        sessions=sessions,
        box=CredentialBox(Fernet.generate_key()),
        config_dir=tmp_path,
        state_dsn=None,
        runner=runner,
    )
    applied = driver.create(ENV, lambda text: None)
    assert applied.outputs == {"marker": "marker_env"}
    assert runner.commands == ["init", "plan", "apply"]  # no `output` run
    removed = driver.destroy(ENV, lambda text: None)
    assert removed == ["terraform_data.marker"]
    assert runner.commands[3:] == ["destroy"]  # the directory stayed initialised
    assert not (tmp_path / "work" / "e1").exists()
