"""A provisioning runner process for the kill -9 test; it blocks inside "creating user".

    python -m tests.commands.new_db.provision_worker DATABASE_URL API_URL TOKEN STATE_FILE DATA_DIR

The test kills it with SIGKILL once the fake provisioner reports reaching create_user.
"""

from __future__ import annotations

import sys
from pathlib import Path

from slack_sdk import WebClient

from bot.core.audit import AuditLog
from bot.core.db import make_engine, make_session_factory
from bot.core.jobs import JobQueue
from bot.core.policy import Policy
from commands.new_db.feature import build_graph
from commands.new_db.ids import JobKind
from commands.new_db.notifier import SlackNotifier
from integrations.slack_messaging import SlackMessenger
from tests.commands.new_db.conftest import example_config
from tests.commands.new_db.fakes import FileProvisioner
from tests.workers import run_until_killed


def main() -> None:
    database_url, api_url, token, state_file, data_dir = sys.argv[1:6]
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    config = example_config(Path(data_dir).parent)
    provisioner = FileProvisioner("sqlite", Path(state_file))
    provisioner.block_at = "create_user"
    provisioner.reached_file = Path(state_file).with_suffix(".reached")
    feature = build_graph(
        config,
        config.databases,
        sessions=sessions,
        policy=Policy(config),
        audit=AuditLog(sessions),
        jobs=JobQueue(sessions),
        notifier=SlackNotifier(SlackMessenger(WebClient(token=token, base_url=api_url))),
        provisioners={"sqlite": provisioner},
        secrets=None,
    )
    run_until_killed(sessions, engine, {JobKind.PROVISION: feature.provision_job})


if __name__ == "__main__":
    main()
