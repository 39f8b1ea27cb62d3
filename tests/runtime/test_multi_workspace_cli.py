"""The console script in multi-workspace mode: what it refuses, and `migrate` for every
installed workspace's data."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from slack_sdk.oauth.installation_store import Installation
from sqlalchemy import inspect

from bot.core.db import make_engine
from bot.runtime.cli import main
from bot.runtime.installations import Installations
from bot.runtime.schema import upgrade
from bot.runtime.services import build_slack_client
from bot.runtime.settings import Settings


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def oauth_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    database = tmp_path / "bot.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{database}")
    monkeypatch.setenv("SLACK_CLIENT_ID", "1234.5678")
    monkeypatch.setenv("SLACK_CLIENT_SECRET", "client-secret")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "signing-secret")
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    return database


def test_serve_refuses_a_bot_token_beside_the_oauth_client(
    oauth_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-one-workspace")
    assert main(["serve", "--port", "0"]) == 3
    assert "not both" in capsys.readouterr().err


def test_serve_needs_the_client_secret_with_the_client_id(
    oauth_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SLACK_CLIENT_SECRET", "")
    assert main(["serve", "--port", "0"]) == 3
    assert "needs both SLACK_CLIENT_ID and SLACK_CLIENT_SECRET" in capsys.readouterr().err


def test_serve_refuses_workers_for_jobs(
    oauth_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    shared = Path(__file__).resolve().parents[2] / "platform.example.yaml"
    config = oauth_env.parent / "platform.yaml"
    config.write_text(shared.read_text().replace("  run_in: process", "  run_in: workers", 1))
    (oauth_env.parent / "examples").symlink_to(shared.parent / "examples")
    monkeypatch.setenv("PLATFORM_CONFIG", str(config))
    assert main(["serve", "--port", "0"]) == 3
    assert "jobs.run_in: workers is not available" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["socket", "worker"])
def test_socket_mode_and_workers_say_serve_is_the_way(
    oauth_env: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([command]) == 3
    err = capsys.readouterr().err
    assert "several workspaces" in err
    assert "Traceback" not in err


def test_migrate_brings_every_installed_workspace_to_head(
    oauth_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(
        database_url=f"sqlite:///{oauth_env}",
        slack_client_id="1234.5678",
        slack_client_secret=SecretStr("client-secret"),
    )
    engine = make_engine(settings.database_url)
    upgrade(engine)
    store = Installations(settings, engine, client=build_slack_client(settings)).store
    for team in ("T0AAA", "T0BBB"):
        store.save(
            Installation(app_id="A0APP", team_id=team, user_id="U0ADMIN", bot_token=f"xoxb-{team}")
        )
    engine.dispose()

    assert main(["migrate"]) == 0
    assert "2 installed workspace(s)" in capsys.readouterr().out
    for team in ("t0aaa", "t0bbb"):
        tenant = make_engine(f"sqlite:///{oauth_env.parent / f'bot.{team}.db'}")
        assert "job" in inspect(tenant).get_table_names()
        tenant.dispose()
