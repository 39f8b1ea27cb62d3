"""The environments feature on this machine's real servers, for the test_real_*.py modules.

The bot runs with the provisioners the runtime builds from the example config (as new-db's
real tests do), so the wiring is covered too. Names are fresh per test; `left_on_servers`
says what of an environment is still on PostgreSQL, Redis and RabbitMQ, and the
`drop_after` fixture removes it also when a test fails.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from bot.runtime.adapters import build_provisioners
from bot.runtime.config import PlatformConfig
from integrations.provisioning_protocols import ResourceSpec
from tests.commands.environments.conftest import EnvBot
from tests.commands.new_db.test_real_servers import pg_query, real_config
from tests.harness import running_bot

PREVIEW = {"db": "postgres", "cache": "redis", "queue": "rabbitmq"}
"""The example `preview` template's resources: key → engine."""
RABBITMQ_API = "http://127.0.0.1:15672/api"

DropAfter = Callable[[str], None]


def real_env_config(tmp_path: Path, **engines: dict[str, Any]) -> PlatformConfig:
    """The example config on the real servers (`engines` changed), one attempt per job, and
    Terraform's working directories under `tmp_path`."""
    config = real_config(tmp_path, **engines)
    section = config.environments
    terraform = section.terraform.model_copy(update={"work_dir": tmp_path / "environments"})
    changed = section.model_copy(update={"create_attempts": 1, "terraform": terraform})
    return config.model_copy(update={"environments": changed})


@contextmanager
def real_envbot(
    tmp_path: Path, config: PlatformConfig, schema: Path | None, database_url: str | None = None
) -> Iterator[EnvBot]:
    with running_bot(
        tmp_path, config=config, schema=schema, capture_logs=True, database_url=database_url
    ) as bot:
        yield EnvBot(bot, {})


def rabbitmq_get(path: str) -> httpx.Response:
    return httpx.get(f"{RABBITMQ_API}/{path}", auth=("guest", "guest"), timeout=10)


def left_on_servers(name: str) -> list[str]:
    """What of the `preview` environment `name` is still on any server."""
    left = []
    database = f"{name}-db".replace("-", "_")
    if pg_query("SELECT 1 FROM pg_database WHERE datname = %s", database):
        left.append(f"database {database}")
    if pg_query("SELECT 1 FROM pg_roles WHERE rolname = %s", f"{database}_app"):
        left.append(f"role {database}_app")
    admin = redis.Redis(host="127.0.0.1", port=6379)
    try:
        if admin.acl_getuser(f"{name}-cache") is not None:
            left.append(f"Redis user {name}-cache")
        keys = list(admin.scan_iter(match=f"{name}-cache:*"))
        if keys:
            left.append(f"Redis keys {keys}")
    finally:
        admin.close()
    for kind in ("vhosts", "users"):
        if rabbitmq_get(f"{kind}/{name}-queue").status_code != 404:
            left.append(f"RabbitMQ {kind} {name}-queue")
    return left


@pytest.fixture
def drop_after(tmp_path: Path) -> Iterator[DropAfter]:
    """`drop_after(name)`: remove the `preview` environment `name`'s resources after the
    test, whatever the bot did."""
    names: list[str] = []
    yield names.append
    clients: list[httpx.Client] = []
    provisioners = build_provisioners(real_config(tmp_path).databases, clients)
    try:
        for name in names:
            for key, engine in PREVIEW.items():
                provisioners[engine].drop(ResourceSpec(engine=engine, name=f"{name}-{key}"))
    finally:
        for client in clients:
            client.close()
