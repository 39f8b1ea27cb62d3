"""An environments job runner process for the kill -9 test; it blocks inside "creating user".

    python -m tests.commands.environments.create_worker DATABASE_URL API_URL TOKEN STATE_DIR

The bot's whole graph is built as the real process builds it, with a file-backed SQLite
provisioner that blocks in `create_user`; the test kills the process with SIGKILL once the
provisioner reports reaching it.
"""

from __future__ import annotations

import sys
from pathlib import Path

from slack_sdk import WebClient

from bot.runtime.services import build_services
from bot.runtime.settings import Settings
from commands.environments.feature import Environments
from commands.environments.ids import JobKind
from tests.commands.environments.conftest import env_config
from tests.commands.new_db.fakes import FileProvisioner
from tests.harness import EXAMPLE_CONFIG, features_with
from tests.workers import run_until_killed


def main() -> None:
    database_url, api_url, token, state_dir = sys.argv[1:5]
    directory = Path(state_dir)
    provisioner = FileProvisioner("sqlite", directory / "sqlite.json")
    provisioner.block_at = "create_user"
    provisioner.reached_file = directory / "sqlite.reached"
    services = build_services(
        Settings(database_url=database_url, platform_config=EXAMPLE_CONFIG),
        env_config(directory),
        slack=WebClient(token=token, base_url=api_url),
        features=features_with(provisioners={"sqlite": provisioner}),
    )
    environments = services.feature("environments")
    assert isinstance(environments, Environments)
    run_until_killed(services.sessions, services.engine, {JobKind.CREATE: environments.create_job})


if __name__ == "__main__":
    main()
