"""The console script's outside contract: commands, exit codes, messages without tracebacks."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.core.audit import AuditLog, Outcome, append_only_ddl, drop_append_only_ddl
from bot.core.db import make_engine, make_session_factory
from bot.runtime.cli import main
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.usefixtures("restore_logging")


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=REPO_ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "command", ["serve", "socket", "shell", "migrate", "check-config", "manifest"]
)
def test_every_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([command, "--help"])
    assert exited.value.code == 0
    assert f"usage: platform-bot {command}" in capsys.readouterr().out


def test_check_config_accepts_the_example(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", str(REPO_ROOT / "platform.example.yaml")]) == 0
    assert "platform.example.yaml: ok" in capsys.readouterr().out


@pytest.mark.slow
def test_check_config_reports_errors_with_lines_and_no_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "platform.yaml"
    bad.write_text("platform:\n  name: Orbit\njobs:\n  workerz: 3\n")
    result = _run("check-config", str(bad))
    assert result.returncode == 2
    assert f"{bad}:4: jobs.workerz: unknown key" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_check_config_reports_subjects_naming_undefined_teams(tmp_path: Path) -> None:
    bad = tmp_path / "platform.yaml"
    bad.write_text("policies:\n  - action: whoami\n    allow: [team:nobody]\n")
    result = _run("check-config", str(bad))
    assert result.returncode == 2
    assert "team:nobody" in result.stderr


@pytest.mark.slow
def test_serve_without_a_token_says_what_to_set(tmp_path: Path) -> None:
    env = {"SLACK_BOT_TOKEN": "", "DATABASE_URL": f"sqlite:///{tmp_path / 'db'}"}
    result = _run("serve", env=env)
    assert result.returncode == 3
    assert "SLACK_BOT_TOKEN is not set" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_serve_refuses_an_out_of_date_schema(tmp_path: Path) -> None:
    env = {
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": "secret",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db'}",
    }
    result = _run("serve", "--port", "0", env=env)
    assert result.returncode == 3
    assert "run `platform-bot migrate` first" in result.stderr


@pytest.mark.slow
def test_a_bad_config_stops_startup_with_the_message(tmp_path: Path) -> None:
    bad = tmp_path / "platform.yaml"
    bad.write_text("teams: [not, a, mapping]\n")
    env = {
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": "secret",
        "PLATFORM_CONFIG": str(bad),
    }
    result = _run("serve", env=env)
    assert result.returncode == 2
    assert f"{bad}:1: teams:" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_migrate_twice_is_harmless(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'db'}"}
    first = _run("migrate", env=env)
    second = _run("migrate", env=env)
    assert first.returncode == 0, first.stderr
    assert "upgraded from empty" in first.stdout
    assert "already at" in second.stdout


def test_manifest_with_a_url_is_for_http_mode(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["manifest", "--url", "https://bot.acme.example"]) == 0
    manifest = yaml.safe_load(capsys.readouterr().out)
    assert manifest["settings"]["socket_mode_enabled"] is False
    assert manifest["settings"]["interactivity"]["request_url"] == (
        "https://bot.acme.example/slack/events"
    )


def test_manifest_rejects_a_url_without_a_scheme(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["manifest", "--url", "bot.acme.example"]) == 3
    assert "--url must start with https://" in capsys.readouterr().err


@pytest.mark.slow
def test_socket_without_an_app_token_says_what_to_set() -> None:
    result = _run("socket", env={"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_APP_TOKEN": ""})
    assert result.returncode == 3
    assert "SLACK_APP_TOKEN is not set" in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    ("command", "token"), [("serve", "SLACK_SIGNING_SECRET"), ("socket", "SLACK_APP_TOKEN")]
)
def test_replicas_on_postgresql_need_a_shared_credential_key(command: str, token: str) -> None:
    """Each replica would make its own key file: one could not reveal what another sealed."""
    env = {
        "SLACK_BOT_TOKEN": "xoxb-test",
        token: "xapp-test" if token == "SLACK_APP_TOKEN" else "secret",
        # Refused before any connection: nothing listens on port 1.
        "DATABASE_URL": "postgresql://postgres@127.0.0.1:1/platform",
        "PLATFORM_CONFIG": str(REPO_ROOT / "platform.example.yaml"),
    }
    result = _run(command, env=env)
    assert result.returncode == 2, result.stderr
    assert "databases.secret_key: not set" in result.stderr
    assert "Fernet.generate_key().decode()" in result.stderr
    assert "secret_key: ${PLATFORM_BOT_SECRET_KEY}" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.fixture
def audited_database(
    tmp_path: Path, migrated_schema: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    path = tmp_path / "bot.db"
    shutil.copyfile(migrated_schema, path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    engine = make_engine(f"sqlite:///{path}")
    log = AuditLog(make_session_factory(engine))
    for n in range(3):
        log.record(actor=f"U{n}", action="env.create", outcome=Outcome.SUCCEEDED, target=f"pr-{n}")
    engine.dispose()
    return path


def test_an_intact_log_passes_with_its_count_and_head(
    audited_database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", "verify"]) == 0
    out = capsys.readouterr().out
    assert "audit log intact: 3 records, head hash " in out


def test_a_tampered_log_fails_naming_the_record(
    audited_database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = make_engine(f"sqlite:///{audited_database}")
    with engine.begin() as connection:  # the SQLite file edited directly
        for ddl in drop_append_only_ddl("sqlite"):
            connection.exec_driver_sql(ddl)
        connection.exec_driver_sql("UPDATE audit_record SET target = 'prod' WHERE actor = 'U1'")
        for ddl in append_only_ddl("sqlite"):
            connection.exec_driver_sql(ddl)
    engine.dispose()
    assert main(["audit", "verify"]) == 1
    err = capsys.readouterr().err
    assert "audit log BROKEN at record 2 (" in err
    assert "content changed; 1 records before it are intact" in err


def test_an_unmigrated_database_is_refused_without_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    assert main(["audit", "verify"]) == 3
    assert "platform-bot migrate" in capsys.readouterr().err
