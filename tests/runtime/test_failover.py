"""Replicas and failover: kill -9 the scheduler leader and a worker in the middle of the work.

Three `platform-bot serve` replicas (gunicorn) behind a round-robin proxy and three
`platform-bot worker` processes share one fresh PostgreSQL database; `jobs.run_in: workers`,
so replicas only ack and enqueue. The Slack emulator runs in its own process at Slack's
limits, its minute scaled down (`PACE`); the bot's survey pacer is scaled the same way.

An admin runs an NPS campaign that fans out to 2,000 people and 50 new-db requests are
submitted through the proxy; a few seconds before a minute boundary, while both are under
way, the worker leading the scheduler and the worker running the fan-out (another one if
that is the leader) are killed with SIGKILL, together. The kill lands between messages: the
two are stopped (SIGSTOP), and killed only if nothing they hold is in flight (a survey DM
claimed but not posted, or a new-db message posted but not recorded), else resumed and
tried again a moment later. Kill -9 at any instant would lose a DM in flight by design
(at most once: `surveys/delivery.py`) or repeat a new-db message (at least once).

Then: every person got the survey DM exactly once, every request completed once (one
resource, one card, one progress message, one "is ready" DM), the surviving worker took
over the scheduler within the job lease + 5 s, and the every-minute campaign opened exactly
one round per due minute, the one due while no leader was up included. The figures are
printed (run with `-s` to see them).
"""

from __future__ import annotations

import math
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
from sqlalchemy import Engine

from bot.core.db import make_engine
from surveys.delivery import DeliveryState
from tests.conftest import REPO_ROOT
from tests.runtime.failover_drill import (
    ADMIN,
    DRILL,
    DRILL_QUESTION,
    TICKING,
    Pace,
    Records,
    Traffic,
    environment,
    request_name,
    request_posts,
    survey_dms,
    ticking_dms,
    unrecorded,
    write_config,
)
from tests.runtime.fleet import Fleet, Member, SlackProcess, slack_process
from tests.runtime.round_robin import RoundRobinProxy

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
T = TypeVar("T")

USERS = 2_000
REQUESTS = 50
# A minute lasts 6 s: 300 DMs a "minute" make the fan-out last about 40 s.
PACE = Pace(scale=0.1, messages_per_minute=300, senders=16, lease_seconds=10)
WORKERS = REPLICAS = 3
CAMPAIGN_LEAD = 20.0  # seconds before the boundary: the fan-out is mid-way at the kill
REQUESTS_LEAD = 7.0  # the requests are being provisioned at the kill
KILL_LEAD = 2.5  # the boundary falls while no leader is up (unless the takeover is quicker)
SETTLE = 0.3  # what stopped processes had already sent reaches the emulator


@dataclass(frozen=True)
class Kill:
    at: float  # time.monotonic() of the SIGKILL
    wall: datetime
    victims: tuple[Member, ...]
    survivor: Member
    attempts: int
    drill_done: int  # drill DMs posted before the kill
    interrupted: Counter[str]  # running jobs the victims held, by kind


@dataclass(frozen=True)
class Takeover:
    leader_s: float
    fanout_s: float


def test_kill_9_of_the_leader_and_a_worker_loses_and_doubles_nothing(
    empty_postgres_url: str, tmp_path: Path
) -> None:
    config = write_config(tmp_path, PACE)
    with slack_process(USERS, PACE.scale, seed=20261126) as slack:
        env = environment(dict(os.environ), slack, empty_postgres_url, config)
        migrate = [sys.executable, "-m", "bot", "migrate"]
        subprocess.run(migrate, env=env, cwd=REPO_ROOT, check=True, timeout=120)
        fleet = Fleet(tmp_path, env)
        engine = make_engine(empty_postgres_url)
        try:
            workers = [fleet.worker(f"worker-{n}") for n in range(WORKERS)]
            replicas = [fleet.serve(f"serve-{n}") for n in range(REPLICAS)]
            fleet.wait_ready()
            with RoundRobinProxy([f"127.0.0.1:{r.port}" for r in replicas]) as proxy:
                _drill(slack, Traffic(proxy.url, slack.signing_secret), workers, engine)
                assert sorted(proxy.answered.values())[0] > 0, "a replica answered nothing"
        except BaseException:
            for member in fleet.members:
                print(f"--- {member.name} (pid {member.pid}) ---\n{member.logged()[-4000:]}")
            raise
        finally:
            fleet.close()
            engine.dispose()


def _drill(slack: SlackProcess, traffic: Traffic, workers: list[Member], engine: Engine) -> None:
    records = Records(engine)
    _wait(lambda: sum(w.leads() for w in workers) == 1, 60, "one worker leads the scheduler")
    # An admin's resume is the campaign's first record: its due times count from then on
    # (a campaign never fires for times before the bot first saw it). Not sent across a
    # minute boundary, so which minute is the first one due is not in doubt.
    if datetime.now(UTC).second >= 59:
        time.sleep(1.5)
    assert traffic.command(ADMIN, f"nps resume {TICKING}").status_code == 200
    counted_from = datetime.now(UTC)
    boundary = _next_minute(counted_from + timedelta(seconds=CAMPAIGN_LEAD + 5))
    _sleep_until(boundary - timedelta(seconds=CAMPAIGN_LEAD))
    assert traffic.command(ADMIN, f"nps run {DRILL}").status_code == 200
    drill_round = _wait(lambda: records.round_id(DRILL), 30, "the drill's round opens")
    _sleep_until(boundary - timedelta(seconds=REQUESTS_LEAD))
    with ThreadPoolExecutor(max_workers=10) as pool:
        submitted = list(pool.map(traffic.submit_new_db, range(REQUESTS)))
    _sleep_until(boundary - timedelta(seconds=KILL_LEAD))
    kill = _kill_between_posts(slack, records, drill_round, workers)
    # The kill landed mid-way: DMs were left to send and requests were being provisioned.
    assert 0 < kill.drill_done < USERS
    assert kill.interrupted["db.provision"] + kill.interrupted["db.handoff"] > 0
    takeover = _takeover(kill, records, drill_round)
    after = _next_minute(boundary + timedelta(seconds=1))
    _wait_settled(slack, records, drill_round, after)
    _check_and_report(
        slack, records, drill_round, submitted, kill, takeover, boundary, counted_from
    )


def _kill_between_posts(
    slack: SlackProcess, records: Records, drill_round: int, workers: list[Member]
) -> Kill:
    leader = next(w for w in workers if w.leads())
    holder = records.fanout_holder(drill_round)
    assert holder is not None, "the fan-out finished before the kill: slow the pace"
    runner = next(w for w in workers if holder.split(":")[1] == str(w.pid))
    second = runner if runner is not leader else next(w for w in workers if w is not leader)
    victims = (leader, second)
    survivor = next(w for w in workers if w not in victims)
    deadline = time.monotonic() + 30
    for attempt in range(1, 1000):
        _wait(lambda: _between_bursts(records, drill_round), 30, "a pause in the fan-out")
        for victim in victims:
            os.kill(victim.pid, signal.SIGSTOP)
        time.sleep(SETTLE)
        posts = slack.posts()
        if not unrecorded(posts, records, drill_round):
            for victim in victims:
                os.kill(victim.pid, signal.SIGKILL)
            at, wall = time.monotonic(), datetime.now(UTC)
            for victim in victims:
                victim.process.wait(10)
            done = sum(survey_dms(posts, DRILL_QUESTION).values())
            interrupted = records.held_by(victim.pid for victim in victims)
            return Kill(at, wall, victims, survivor, attempt, done, interrupted)
        for victim in victims:
            os.kill(victim.pid, signal.SIGCONT)
        assert time.monotonic() < deadline, "no moment without a message in flight in 30 s"
        time.sleep(random.uniform(0.05, 0.3))
    raise AssertionError("unreachable")


def _between_bursts(records: Records, drill_round: int) -> bool:
    """Whether the fan-out waits for its pacer now: no DM claimed for a moment."""
    before = records.claimed(drill_round)
    time.sleep(0.15)
    return records.claimed(drill_round) == before


def _takeover(kill: Kill, records: Records, drill_round: int) -> Takeover:
    """Seconds from the kill until the survivor leads, and until it holds the fan-out."""
    survivor = kill.survivor
    _wait(survivor.leads, 60, "the surviving worker takes over the scheduler", poll=0.05)
    leader_s = time.monotonic() - kill.at

    def survivor_fans_out() -> bool:
        holder = records.fanout_holder(drill_round)
        return holder is not None and holder.split(":")[1] == str(survivor.pid)

    _wait(survivor_fans_out, 60, "the surviving worker takes over the fan-out", poll=0.05)
    return Takeover(leader_s=leader_s, fanout_s=time.monotonic() - kill.at)


def _wait_settled(slack: SlackProcess, records: Records, drill_round: int, after: datetime) -> None:
    """Until the fan-out, every request and the round due at `after` are done."""

    def settled() -> bool:
        states = records.delivery_states(drill_round)
        if states[DeliveryState.PENDING] or records.fanout_holder(drill_round) is not None:
            return False
        done = [r for r in records.requests() if r.offer]
        if len(done) < REQUESTS or after not in records.ticking_runs():
            return False
        return sum(ticking_dms(slack.posts()).values()) >= len(records.ticking_runs())

    seconds = (after - datetime.now(UTC)).total_seconds() + 90
    _wait(settled, seconds, "the fan-out, the requests and the next scheduled round finish", poll=1)


def _check_and_report(
    slack: SlackProcess,
    records: Records,
    drill_round: int,
    submitted: list[httpx.Response],
    kill: Kill,
    takeover: Takeover,
    boundary: datetime,
    counted_from: datetime,
) -> None:
    posts = slack.posts()
    # Every person of the audience: exactly one survey DM.
    dms = survey_dms(posts, DRILL_QUESTION)
    states = records.delivery_states(drill_round)
    audience = sum(states.values())
    assert audience == USERS
    assert sorted(set(dms.values())) == [1] and len(dms) == USERS
    assert dms.keys() == records.users_in(drill_round, *DeliveryState)
    # Every request: acked, one active resource, one card, one progress reply, one "ready".
    assert [(r.status_code, r.text) for r in submitted] == [(200, "")] * REQUESTS
    requests = records.requests()
    names = sorted(r.name for r in requests)
    assert names == [request_name(n) for n in range(REQUESTS)]
    assert {(r.status, r.resource_status) for r in requests} == {("completed", "active")}
    seen = request_posts(posts)
    assert {seen[name, what] for name in names for what in ("card", "progress", "ready")} == {1}
    jobs = records.jobs_by_kind()
    assert jobs["db.provision", "succeeded"] == jobs["db.handoff", "succeeded"] == REQUESTS
    # The scheduler: taken over in time; one round per due minute, none lost, none doubled.
    bound = PACE.lease_seconds + 5
    assert takeover.leader_s <= bound
    runs = records.ticking_runs()
    due = _minutes_between(counted_from, max(runs))
    assert runs == dict.fromkeys(due, 1)
    assert boundary in runs
    rounds = ticking_dms(posts)
    assert sorted(rounds.values()) == [1] * len(runs)
    leaderless = kill.wall < boundary < kill.wall + timedelta(seconds=takeover.leader_s)
    _print_report(states, dms, kill, takeover, bound, runs, leaderless, posts)


def _print_report(states, dms, kill, takeover, bound, runs, leaderless, posts) -> None:  # type: ignore[no-untyped-def]
    window = 60 * PACE.scale
    pacing_bound = (math.ceil(USERS / PACE.messages_per_minute) - 1) * window
    lines = [
        "failover drill: 3 serve replicas behind a round-robin proxy, 3 workers, PostgreSQL",
        f"  killed -9 together: {', '.join(v.name for v in kill.victims)} "
        f"(scheduler leader + fan-out runner), after {kill.attempts} stop(s) to find a "
        f"moment between messages; {kill.drill_done} of {USERS} DMs were out; jobs they "
        f"held: {dict(kill.interrupted)}",
        f"  scheduler takeover: {takeover.leader_s:.2f} s (bound: job lease {PACE.lease_seconds} s"
        f" + 5 s = {bound} s)",
        f"  fan-out job takeover: {takeover.fanout_s:.2f} s (its lease: {PACE.lease_seconds} s)",
        f"  survey DMs: {len(dms)} people, each exactly once; ledger {dict(states)}",
        f"  new-db: {REQUESTS} requests, each one resource, one card, one progress, one ready DM",
        f"  scheduled runs: {len(runs)} due minutes, one round each; the one due at the kill "
        f"{'fell while no leader was up' if leaderless else 'was run by the old leader'}",
        f"  pacing bound for {USERS} DMs at {PACE.messages_per_minute} a {window:.0f} s "
        f"window: {pacing_bound:.0f} s",
    ]
    print("\n".join(lines))


def _minutes_between(start: datetime, end: datetime) -> list[datetime]:
    """The minute boundaries in (start, end]."""
    moments, moment = [], _next_minute(start)
    while moment <= end:
        moments.append(moment)
        moment += timedelta(minutes=1)
    return moments


def _next_minute(moment: datetime) -> datetime:
    """The first whole minute strictly after `moment`, unless it is one already."""
    floor = moment.replace(second=0, microsecond=0)
    return floor if floor == moment else floor + timedelta(minutes=1)


def _sleep_until(moment: datetime) -> None:
    time.sleep(max(0.0, (moment - datetime.now(UTC)).total_seconds()))


def _wait(check: Callable[[], T], seconds: float, what: str, *, poll: float = 0.2) -> T:
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out: {what}"
        time.sleep(poll)
