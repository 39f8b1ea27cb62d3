"""A `platform-bot worker` process for the SIGTERM test; its provisioner blocks in a step.

    python -m tests.runtime.worker_process DATABASE_URL API_URL TOKEN STATE_DIR

The bot's whole graph is built as the real `worker` command builds it, with file-backed fake
provisioners (state in STATE_DIR, shared with the test) of which the postgres one blocks in
"create_user" and writes `postgres.reached` once there. `Worker.run` handles the signal.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pydantic import SecretStr

from bot.core.config import JobsRunIn
from bot.runtime.config import PlatformConfig
from bot.runtime.log import configure_logging
from bot.runtime.services import Services, build_services
from bot.runtime.settings import LogFormat, Settings
from bot.runtime.worker import Worker
from integrations.provisioning_protocols import Provisioner
from tests.commands.new_db.conftest import example_config, fake_provisioners
from tests.harness import EXAMPLE_CONFIG, features_with

BLOCKED_STEP = "create_user"


def workers_config(directory: Path) -> PlatformConfig:
    """The example config with jobs in workers that poll once a minute (so a job picked up
    within seconds was woken by NOTIFY) and a one-second grace period on SIGTERM."""
    config = example_config(directory)
    jobs = config.jobs.model_copy(
        update={
            "run_in": JobsRunIn.WORKERS,
            "poll_interval_seconds": 60,
            "stop_grace_seconds": 1,
        }
    )
    return config.model_copy(update={"jobs": jobs})


def worker_services(
    database_url: str,
    api_url: str,
    token: str,
    directory: Path,
    provisioners: dict[str, Provisioner],
) -> Services:
    """What `platform-bot worker` builds, on the test's Slack and fake provisioners."""
    settings = Settings(
        database_url=database_url,
        platform_config=EXAMPLE_CONFIG,
        slack_api_url=api_url,
        slack_bot_token=SecretStr(token),
    )
    return build_services(
        settings, workers_config(directory), features=features_with(provisioners=provisioners)
    )


def main() -> None:
    database_url, api_url, token, state_dir = sys.argv[1:5]
    directory = Path(state_dir)
    configure_logging("INFO", LogFormat.TEXT)
    provisioners = fake_provisioners(directory)
    provisioners["postgres"].block_at = BLOCKED_STEP
    provisioners["postgres"].reached_file = directory / "postgres.reached"
    services = worker_services(database_url, api_url, token, directory, dict(provisioners))
    Worker(services, host="127.0.0.1", health_port=0).run()


if __name__ == "__main__":
    main()
