"""`platform-bot worker`: serve acks and enqueues, workers run the jobs and the scheduler.

The serve side is the real app over signed HTTP (the harness, as `serve` runs it with
`jobs.run_in: workers`); workers are the real `Worker` on the same PostgreSQL database, in
this process or as a child process for the SIGTERM test. Workers poll once a minute, so a
job they run within seconds was woken by LISTEN/NOTIFY.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, select, text

from bot.core.db import make_engine
from bot.core.jobs import Job, JobStatus
from bot.emulator import Emulator
from bot.runtime.schema import upgrade
from bot.runtime.services import Role
from bot.runtime.worker import Worker
from commands.new_db.ids import JobKind
from tests.commands.new_db.conftest import DbBot, fake_provisioners
from tests.commands.new_db.driving import BOB, request, resources, wait_status
from tests.conftest import REPO_ROOT, free_port
from tests.core.polling import wait_until
from tests.harness import features_with, running_bot
from tests.runtime.worker_process import BLOCKED_STEP, worker_services, workers_config

pytestmark = pytest.mark.slow


@pytest.fixture
def serve(tmp_path: Path, empty_postgres_url: str) -> Iterator[DbBot]:
    """The bot serving Slack as `serve` does with jobs in workers: it only acks and enqueues."""
    provisioners = fake_provisioners(tmp_path)
    with running_bot(
        tmp_path,
        config=workers_config(tmp_path),
        database_url=empty_postgres_url,
        features=features_with(provisioners=provisioners),
        role=Role.REQUESTS,
        capture_logs=True,
    ) as bot:
        yield DbBot(bot, provisioners)


def start_worker(serve: DbBot, database_url: str, directory: Path) -> Worker:
    emulator = serve.bot.emulator
    services = worker_services(
        database_url, emulator.api_url, emulator.bot_token, directory, dict(serve.provisioners)
    )
    worker = Worker(services, host="127.0.0.1", health_port=0)
    worker.start()
    return worker


def provisioning(serve: DbBot) -> list[str]:
    """The statuses of the provisioning jobs, in the order they were enqueued."""
    with serve.services.sessions() as session:
        return list(
            session.scalars(
                select(Job.status).where(Job.kind == JobKind.PROVISION).order_by(Job.id)
            )
        )


def ready_dms(serve: DbBot, name: str) -> list[str]:
    """The "ready" notes in Bob's DM thread for database `name` (one per provisioning)."""
    return [m.text for m in serve.bot.dm_messages(BOB) if m.text.endswith(f" {name}: ready")]


def test_serve_only_enqueues_and_a_worker_provisions_what_was_asked(
    serve: DbBot, empty_postgres_url: str, tmp_path: Path
) -> None:
    services = serve.services
    assert not services.runner.is_running and not services.scheduler.is_running

    response = request(serve, BOB, "new-db postgres orders-db --env staging", plan="small")

    assert response.body == ""  # the modal closed: acked
    # Queued, and this process (whose enqueue woke its own runner, were it running) leaves
    # it there for a worker.
    assert wait_until(lambda: provisioning(serve) == [JobStatus.QUEUED])
    assert not wait_until(lambda: provisioning(serve) != [JobStatus.QUEUED], timeout=1)
    assert serve.provisioners["postgres"].state()["calls"] == []
    assert ready_dms(serve, "orders-db") == []

    worker = start_worker(serve, empty_postgres_url, tmp_path)
    try:
        assert wait_status(serve, "active").name == "orders-db"
        assert serve.bot.emulator.wait_for(lambda: len(ready_dms(serve, "orders-db")) == 1)
        # The worker idles now, waiting out its one-minute poll; the next request wakes it.
        request(serve, BOB, "new-db postgres ledger-db --env staging", plan="small")
        assert serve.bot.emulator.wait_for(lambda: len(ready_dms(serve, "ledger-db")) == 1)
        assert sorted(r.name for r in resources(serve) if r.status == "active") == [
            "ledger-db",
            "orders-db",
        ]
        probes = f"http://127.0.0.1:{worker.health_port}"
        assert httpx.get(f"{probes}/healthz").text == "ok\n"
        assert httpx.get(f"{probes}/readyz").text == "ready\n"
        assert wait_until(lambda: "platform_bot_scheduler_leader 1.0" in _metrics(probes))
        assert 'platform_bot_jobs_total{kind="db.provision",outcome="succeeded"}' in (
            _metrics(probes)
        )
        worker.request_stop()  # what SIGTERM does: the orchestrator stops sending work
        stopping = httpx.get(f"{probes}/readyz")
        assert (stopping.status_code, stopping.text) == (503, "stopping\n")
    finally:
        worker.stop()
    assert [r.status for r in resources(serve)].count("active") == 2
    assert len(ready_dms(serve, "orders-db")) == 1  # delivered once, not once per process


def test_the_scheduler_runs_on_one_worker_and_moves_when_it_stops(
    empty_postgres_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.core.scheduler")
    engine = make_engine(empty_postgres_url)
    upgrade(engine)
    provisioners = dict(fake_provisioners(tmp_path))
    with Emulator(rate_limits=None) as slack:
        workers = [
            Worker(
                worker_services(
                    empty_postgres_url, slack.api_url, slack.bot_token, tmp_path, provisioners
                ),
                host="127.0.0.1",
                health_port=0,
            )
            for _ in range(2)
        ]
        first, second = workers
        running = [worker.services.scheduler for worker in workers]
        try:
            first.start()
            assert wait_until(lambda: running[0].is_running, timeout=15)
            second.start()
            # Both electors have asked for the lock (their sessions exist and are idle).
            assert wait_until(lambda: _electors_idle(engine) == 2, timeout=15)
            assert [s.is_running for s in running] == [True, False]
            # The line is logged just after the scheduler starts: wait for it, as for the rest.
            assert wait_until(lambda: _leader_lines(caplog, "became") == 1, timeout=15)

            first.stop()

            assert wait_until(lambda: running[1].is_running, timeout=15)
            assert not running[0].is_running
            assert wait_until(lambda: _leader_lines(caplog, "became") == 2, timeout=15)
            assert _leader_lines(caplog, "stopped being") == 1
        finally:
            for worker in workers:
                worker.stop()
            engine.dispose()


def test_sigterm_mid_job_gives_the_job_back_and_another_worker_finishes_it_once(
    serve: DbBot, empty_postgres_url: str, tmp_path: Path
) -> None:
    response = request(serve, BOB, "new-db postgres orders-db --env staging", plan="small")
    assert response.body == ""
    emulator = serve.bot.emulator
    log = tmp_path / "worker.log"
    with log.open("w") as stream:
        child = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.runtime.worker_process",
                empty_postgres_url,
                emulator.api_url,
                emulator.bot_token,
                str(tmp_path),
            ],
            cwd=REPO_ROOT,
            stderr=stream,
        )
    try:
        reached = tmp_path / "postgres.reached"
        assert wait_until(lambda: reached.exists() or child.poll() is not None, timeout=60)
        assert reached.exists(), log.read_text()
        child.send_signal(signal.SIGTERM)
        assert child.wait(timeout=30) == 0, log.read_text()
    finally:
        if child.poll() is None:
            os.kill(child.pid, signal.SIGKILL)
            child.wait(10)
    logged = log.read_text()
    assert "still running at shutdown; released for another worker" in logged
    assert "stopped being the scheduler leader" in logged
    with serve.services.sessions() as session:
        job = session.scalars(select(Job).where(Job.kind == JobKind.PROVISION)).one()
        # Given back, not left to a lease to expire, and the interrupted attempt not counted.
        assert (job.status, job.attempts, job.locked_by) == (JobStatus.QUEUED, 0, None)
        assert job.state  # its checkpoints are kept for the next worker

    worker = start_worker(serve, empty_postgres_url, tmp_path)
    try:
        assert wait_status(serve, "active").name == "orders-db"
        assert emulator.wait_for(lambda: len(ready_dms(serve, "orders-db")) == 1)
    finally:
        worker.stop()
    calls = serve.provisioners["postgres"].state()["calls"]
    assert calls.count("create_resource") == 1  # resumed after its checkpoint, not redone
    assert calls.count(BLOCKED_STEP) == 2  # the interrupted step runs again
    assert len(ready_dms(serve, "orders-db")) == 1


def test_the_worker_command_serves_probes_leads_and_stops_on_sigterm(tmp_path: Path) -> None:
    database = tmp_path / "bot.db"
    with Emulator(rate_limits=None) as slack:
        env = {
            **os.environ,
            "SLACK_API_URL": slack.api_url,
            "SLACK_BOT_TOKEN": slack.bot_token,
            "DATABASE_URL": f"sqlite:///{database}",
            "PLATFORM_CONFIG": str(REPO_ROOT / "platform.example.yaml"),
        }
        subprocess.run([sys.executable, "-m", "bot", "migrate"], env=env, check=True, timeout=60)
        port = free_port()
        log = tmp_path / "worker.log"
        with log.open("w") as stream:
            child = subprocess.Popen(
                [sys.executable, "-m", "bot", "worker", "--health-port", str(port)],
                env=env,
                stderr=stream,
            )
        probes = f"http://127.0.0.1:{port}"
        try:
            assert wait_until(lambda: _get(f"{probes}/readyz") == 200, timeout=60), log.read_text()
            assert _get(f"{probes}/healthz") == 200
            assert "platform_bot_scheduler_leader 1.0" in _metrics(probes)
        finally:
            child.send_signal(signal.SIGTERM)
            assert child.wait(timeout=30) == 0, log.read_text()
    logged = log.read_text()
    assert "became the scheduler leader" in logged
    assert "stopped being the scheduler leader" in logged
    assert "Traceback" not in logged


def test_the_worker_command_names_what_is_wrong(tmp_path: Path) -> None:
    config = tmp_path / "platform.yaml"
    config.write_text("jobs:\n  workers: 0\n")
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "PLATFORM_CONFIG": str(config),
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot", "worker"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 3
    assert "jobs.workers is 0" in result.stderr
    del env["SLACK_BOT_TOKEN"]
    result = subprocess.run(
        [sys.executable, "-m", "bot", "worker"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 3
    assert "SLACK_BOT_TOKEN is not set" in result.stderr


def _get(url: str) -> int | None:
    try:
        return httpx.get(url, timeout=1).status_code
    except httpx.HTTPError:
        return None


def _metrics(probes: str) -> str:
    return httpx.get(f"{probes}/metrics", timeout=5).text


def _electors_idle(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND application_name = 'platform-bot leader lock' AND state = 'idle'"
                )
            ).scalar_one()
        )


def _leader_lines(caplog: pytest.LogCaptureFixture, what: str) -> int:
    return sum(f"{what} the scheduler leader" in r.getMessage() for r in caplog.records)
