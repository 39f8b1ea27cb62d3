"""The console script in multi-workspace mode: what it refuses, and `migrate` for every
installed workspace's data."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from sqlalchemy import inspect, text

from bot.core.db import make_engine
from bot.runtime.cli import main
from bot.runtime.installations import Installations, TenantKey
from bot.runtime.schema import upgrade
from bot.runtime.services import build_slack_client
from bot.runtime.settings import Settings
from commands.resources.credentials import CredentialBox
from tests.runtime.multi_workspace import SECRET_KEY

pytestmark = pytest.mark.usefixtures("restore_logging")


@pytest.fixture
def oauth_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    database = tmp_path / "bot.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{database}")
    monkeypatch.setenv("SLACK_CLIENT_ID", "1234.5678")
    monkeypatch.setenv("SLACK_CLIENT_SECRET", "client-secret")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "signing-secret")
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    # The example config reads it: the tokens' key, never a key file in the checkout.
    monkeypatch.setenv("PLATFORM_BOT_SECRET_KEY", SECRET_KEY)
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


def test_socket_mode_says_serve_is_the_way(
    oauth_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["socket"]) == 3
    err = capsys.readouterr().err
    assert "several workspaces (SLACK_CLIENT_ID)" in err and "`platform-bot serve`" in err
    assert "Traceback" not in err


def test_a_worker_refuses_a_bot_token_beside_the_oauth_client(
    oauth_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-one-workspace")
    assert main(["worker", "--health-port", "0"]) == 3
    assert "not both" in capsys.readouterr().err


def test_migrate_brings_every_installed_workspace_to_head_and_seals_older_tokens(
    oauth_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(
        database_url=f"sqlite:///{oauth_env}",
        slack_client_id="1234.5678",
        slack_client_secret=SecretStr("client-secret"),
    )
    engine = make_engine(settings.database_url)
    upgrade(engine)
    # Stored in the clear, as a release before sealing did.
    plain = SQLAlchemyInstallationStore("1234.5678", engine, "slack_bots", "slack_installations")
    for team in ("T0AAA", "T0BBB"):
        plain.save(
            Installation(app_id="A0APP", team_id=team, user_id="U0ADMIN", bot_token=f"xoxb-{team}")
        )

    assert main(["migrate"]) == 0
    assert "2 installed workspace(s)" in capsys.readouterr().out
    for team in ("t0aaa", "t0bbb"):
        tenant = make_engine(f"sqlite:///{oauth_env.parent / f'bot.{team}.db'}")
        assert "job" in inspect(tenant).get_table_names()
        tenant.dispose()
    with engine.connect() as connection:
        stored = connection.execute(
            text(
                "SELECT bot_token FROM slack_bots "
                "UNION ALL SELECT bot_token FROM slack_installations"
            )
        ).all()
    assert len(stored) == 4 and not any("xoxb" in row[0] for row in stored)
    installations = Installations(
        settings, engine, client=build_slack_client(settings), box=CredentialBox(SECRET_KEY)
    )
    key = TenantKey(None, "T0AAA", org_wide=False)
    assert installations.bot_token(key) == "xoxb-T0AAA"
    assert installations.seal_plain_tokens() == 0  # nothing left in the clear
    engine.dispose()


@pytest.mark.parametrize(
    "command", [["serve", "--port", "0"], ["worker", "--health-port", "0"], ["migrate"]]
)
def test_postgresql_without_a_key_for_the_tokens_is_refused(
    oauth_env: Path,
    command: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Nothing listens there: the refusal comes before any connection.
    monkeypatch.setenv("DATABASE_URL", "postgresql://bot@127.0.0.1:9/none")
    monkeypatch.delenv("PLATFORM_BOT_SECRET_KEY")
    assert main(command) == 3
    err = capsys.readouterr().err
    assert "databases.secret_key is not set" in err
    assert "Traceback" not in err
