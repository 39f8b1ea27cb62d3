"""compose.yaml: the local production-like stack (PostgreSQL, migrate, serve, worker).

`docker compose config` would check it, but this machine's docker client has no compose plugin;
so the file is read with PyYAML and checked for what makes the stack start in order and stay
healthy, with secrets only from the environment.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from bot.runtime.cli import _parser
from bot.runtime.config import check_deployment, load_config
from bot.runtime.settings import Settings
from tests.conftest import REPO_ROOT

COMPOSE = REPO_ROOT / "compose.yaml"
BOT_SERVICES = ("migrate", "serve", "worker")
SECRET_SETTINGS = {"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"}
INTERPOLATION = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)(?::?[-?][^}]*)?\}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return loaded


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = compose["services"]
    return found


def test_the_stack_has_its_four_services(services: dict[str, Any]) -> None:
    assert set(services) == {"postgres", *BOT_SERVICES}
    for name in BOT_SERVICES:
        assert services[name]["build"] == "."
        assert services[name]["image"] == services["serve"]["image"]


def test_each_service_starts_after_what_it_needs(services: dict[str, Any]) -> None:
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for name in ("serve", "worker"):
        assert services[name]["depends_on"] == {
            "postgres": {"condition": "service_healthy"},
            # The bot refuses to start on a schema that is behind.
            "migrate": {"condition": "service_completed_successfully"},
        }
    assert services["migrate"]["restart"] == "no"


def test_healthchecks_ask_each_process_where_it_listens(services: dict[str, Any]) -> None:
    postgres = services["postgres"]["healthcheck"]["test"]
    assert postgres[:2] == ["CMD", "pg_isready"]
    assert services["migrate"]["healthcheck"] == {"disable": True}
    # serve keeps the image's check (HEALTHCHECK_URL, serve's default port); the worker
    # points it at its health port.
    serve = _parser().parse_args(services["serve"]["command"])
    assert serve.command == "serve"
    assert services["serve"]["ports"] == [f"{serve.port}:{serve.port}"]
    assert "HEALTHCHECK_URL" not in services["serve"]["environment"]
    worker_command = services["worker"]["command"]
    assert worker_command[0] == "worker"
    (port,) = [arg.split("=")[1] for arg in worker_command if arg.startswith("--health-port=")]
    url = urlsplit(services["worker"]["environment"]["HEALTHCHECK_URL"])
    assert (url.hostname, str(url.port), url.path) == ("127.0.0.1", port, "/healthz")


def test_the_commands_are_the_console_script_s(services: dict[str, Any]) -> None:
    parser = _parser()
    assert parser.parse_args(services["migrate"]["command"]).command == "migrate"
    assert parser.parse_args(services["serve"]["command"]).command == "serve"


def test_serve_leaves_the_jobs_to_the_worker_service(services: dict[str, Any]) -> None:
    raw = yaml.safe_load((REPO_ROOT / "deploy" / "compose" / "platform.yaml").read_text())
    assert raw["jobs"]["run_in"] == "workers"
    assert "worker" in services


def test_secrets_come_only_from_the_environment(services: dict[str, Any]) -> None:
    for name in BOT_SERVICES:
        environment = services[name]["environment"]
        for key in SECRET_SETTINGS & set(environment):
            assert INTERPOLATION.fullmatch(environment[key]), f"{name}: {key} is a literal"
        database = urlsplit(INTERPOLATION.sub("FROM-ENV", environment["DATABASE_URL"]))
        assert (database.hostname, database.port) == ("postgres", 5432)
        assert database.password == "FROM-ENV", "the password is a literal"
    password = services["postgres"]["environment"]["POSTGRES_PASSWORD"]
    assert INTERPOLATION.fullmatch(password)


def test_every_variable_given_is_one_the_bot_reads(services: dict[str, Any]) -> None:
    settings = {name.upper() for name in Settings.model_fields}
    config = (REPO_ROOT / "deploy" / "compose" / "platform.yaml").read_text()
    used_by_config = set(INTERPOLATION.findall(config))
    # Beside Settings: the jobs switch, the image's health check URL, and the key that
    # platform configs with new-db engines read as ${PLATFORM_BOT_SECRET_KEY}.
    others = {"HEALTHCHECK_URL", "PLATFORM_BOT_SECRET_KEY"}
    for name in BOT_SERVICES:
        unknown = set(services[name]["environment"]) - settings - used_by_config - others
        assert not unknown, f"{name}: {unknown}"


def test_the_mounted_platform_config_is_one_the_bot_accepts(services: dict[str, Any]) -> None:
    mounts = {}
    for volume in services["serve"]["volumes"]:
        source, target, mode = volume.split(":")
        assert mode == "ro"
        assert (REPO_ROOT / source).exists(), source
        mounts[PurePosixPath(target)] = REPO_ROOT / source
    config_path = PurePosixPath(services["serve"]["environment"]["PLATFORM_CONFIG"])
    path = mounts[config_path]
    config = load_config(path, environ={})
    check_deployment(path, config, shared_database=True)
    # What the config reads relative to itself is mounted beside it.
    beside = config_path.parent
    for relative in (config.catalog.files.path, config.oncall.rotation.path):
        wanted = beside / PurePosixPath(relative)
        assert any(wanted == target or target in wanted.parents for target in mounts), wanted


def test_the_worker_command_is_the_console_script_s(services: dict[str, Any]) -> None:
    args = _parser().parse_args(services["worker"]["command"])
    assert (args.command, args.health_port) == ("worker", 8081)
