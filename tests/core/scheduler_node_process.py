"""One replica of the bot's scheduler, for the two-process leader test.

    python -m tests.core.scheduler_node_process DATABASE_URL LOCK_KEY PROBE_TABLE SECONDS

It competes for the leader lock and, while leader, runs a one-second interval task that
records (pid, started, ended) of each run in PROBE_TABLE, spending 0.3 s inside the run so
that two leaders at once would show as overlapping intervals. It stops after SECONDS.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import UTC

from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Column, Engine, Float, Integer, MetaData, Table

from bot.core.db import make_engine
from bot.core.leader import LeaderElector
from bot.core.scheduler import ScheduledTask, Scheduler

TASK_ID = "probe-tick"


def probe_table(name: str) -> Table:
    return Table(
        name,
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("pid", Integer, nullable=False),
        Column("started", Float, nullable=False),
        Column("ended", Float),
    )


def make_tick(engine: Engine, probe: Table) -> ScheduledTask:
    def tick() -> None:
        with engine.begin() as connection:
            row_id = connection.execute(
                probe.insert().values(pid=os.getpid(), started=time.time()).returning(probe.c.id)
            ).scalar_one()
        time.sleep(0.3)
        with engine.begin() as connection:
            connection.execute(probe.update().where(probe.c.id == row_id).values(ended=time.time()))

    return ScheduledTask(
        id=TASK_ID, func=tick, trigger=IntervalTrigger(seconds=1, timezone=UTC), description="probe"
    )


def main() -> None:
    url, key, table, seconds = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
    engine = make_engine(url)
    scheduler = Scheduler(
        engine,
        timezone="UTC",
        tasks=[make_tick(engine, probe_table(table))],
        elector=LeaderElector(engine, key=key, poll_interval=0.2),
    )
    scheduler.start()
    time.sleep(seconds)
    scheduler.stop()
    engine.dispose()


if __name__ == "__main__":
    main()
