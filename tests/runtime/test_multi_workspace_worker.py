"""`platform-bot worker` for an app installed in several workspaces: serve (with
`jobs.run_in: workers`) only acks and enqueues in each workspace's schema; the worker runs
each workspace's jobs there, speaking with that workspace's token, on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import httpx
from sqlalchemy import select

from bot.core.config import JobsRunIn
from bot.core.db import make_engine
from bot.core.jobs import Job, JobStatus
from bot.runtime.installations import TenantKey
from bot.runtime.services import Role
from bot.runtime.worker import worker_for
from commands.lookup.ids import JobKind
from tests.core.polling import wait_until
from tests.runtime.multi_workspace import MultiBot, keyed_config, multi_workspace_bot

ACME = TenantKey(None, "T0PLATFORM", org_wide=False)
BETA = TenantKey(None, "T0BETA", org_wide=False)


def _refreshes(bot: MultiBot, key: TenantKey) -> list[str]:
    with bot.tenant(key).services.sessions() as session:
        query = select(Job.status).where(Job.kind == JobKind.REFRESH).order_by(Job.id)
        return list(session.scalars(query))


def test_a_worker_runs_each_workspaces_jobs_with_its_own_token(
    tmp_path: Path, empty_postgres_url: str
) -> None:
    config = keyed_config(JobsRunIn.WORKERS)
    with multi_workspace_bot(tmp_path, database_url=empty_postgres_url, config=config) as bot:
        bot.install("T0PLATFORM")
        bot.install("T0BETA")
        acme = bot.tenant(ACME).services
        assert acme.role is Role.REQUESTS and not acme.runner.is_running

        assert bot.signer("T0PLATFORM").slash_command("U0ALICE", "catalog refresh").status == 200
        assert wait_until(lambda: _refreshes(bot, ACME) == [JobStatus.QUEUED])
        assert not wait_until(lambda: _refreshes(bot, ACME) != [JobStatus.QUEUED], timeout=1)
        bot.emulator.calls.clear()

        engine = make_engine(empty_postgres_url)
        try:
            with worker_for(
                bot.settings, config, engine, host="127.0.0.1", health_port=0
            ) as worker:
                worker.start()
                try:
                    assert wait_until(
                        lambda: _refreshes(bot, ACME) == [JobStatus.SUCCEEDED], timeout=30
                    )
                    probes = f"http://127.0.0.1:{worker.health_port}"
                    assert httpx.get(f"{probes}/readyz").text == "ready\n"
                    probes += "/metrics"
                    metrics = httpx.get(probes).text
                    assert (
                        'platform_bot_jobs_total{kind="lookup.catalog_refresh",outcome="succeeded"}'
                        in metrics
                    )
                    # Each workspace has its scheduler leader; this worker is the only one.
                    assert wait_until(
                        lambda: "platform_bot_scheduler_leader 1.0" in httpx.get(probes).text
                    )
                finally:
                    worker.stop()
        finally:
            engine.dispose()

        # The report went to Alice in Acme, with Acme's token; Beta queued nothing.
        posts = [c for c in bot.emulator.calls() if c.method == "chat.postMessage"]
        assert [(c.team, c.params.get("channel"), c.error) for c in posts] == [
            ("T0PLATFORM", "U0ALICE", None)
        ]
        assert _refreshes(bot, BETA) == []
