"""The failover drill, run: the deployment started, the work sent, two workers killed.

`run_drill` starts the Slack emulator, migrates a fresh PostgreSQL database, starts three
`serve` replicas behind a round-robin proxy and three workers, and then, timed against the
wall clock's minutes (the scheduled campaign is due on each):

1. an admin resumes the every-minute campaign (its first record: due times count from then)
   and, ~20 s before a minute boundary, runs the drill campaign to 2,000 people;
2. ~7 s before the boundary, 50 new-db requests are submitted through the proxy;
3. from ~2.5 s before it, in a pause of the fan-out's pacer, the scheduler leader and the
   worker running the fan-out (another worker if that is the leader) are stopped, checked
   for messages in flight (`failover_drill.unrecorded`) and killed with SIGKILL together,
   or resumed and tried again a moment later;
4. the takeovers are timed (the survivor's leader gauge; the fan-out job's holder), and the
   drill waits until the fan-out, the requests and the next minute's round are done.

What it returns is what people got and what the bot recorded; tests/runtime/test_failover.py
asserts on it and benchmarks/run.py (`--only failover`) reports it.
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
from typing import Any, TypeVar

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
    RequestRecord,
    Traffic,
    environment,
    survey_dms,
    ticking_dms,
    unrecorded,
    write_config,
)
from tests.runtime.fleet import Fleet, Member, SlackProcess, slack_process
from tests.runtime.round_robin import RoundRobinProxy

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
    victims: tuple[Member, ...]  # the leader first
    fanout_runner: Member
    survivor: Member
    attempts: int
    drill_done: int  # drill DMs posted before the kill
    interrupted: Counter[str]  # running jobs the victims held, by kind


@dataclass(frozen=True)
class Takeover:
    leader_s: float
    fanout_s: float


@dataclass(frozen=True)
class Outcome:
    """What the drill observed once everything had settled."""

    posts: list[dict[str, Any]]  # every chat.postMessage the emulator carried out
    states: Counter[str]  # the drill round's ledger rows by state
    every_user: set[str]  # the drill round's audience, as the ledger has it
    requests: list[RequestRecord]
    jobs: Counter[tuple[str, str]]  # (kind, status)
    ticking_runs: Counter[datetime]  # rounds of the every-minute campaign per due time
    acks: list[tuple[int, str]]  # the proxy's answers to the new-db submissions
    kill: Kill
    takeover: Takeover
    boundary: datetime  # the minute due just after the kill
    counted_from: datetime  # when the every-minute campaign started counting

    @property
    def leaderless_at_boundary(self) -> bool:
        """Whether the minute fell between the kill and the new leader's takeover."""
        took_over = self.kill.wall + timedelta(seconds=self.takeover.leader_s)
        return self.kill.wall < self.boundary < took_over


def run_drill(database_url: str, directory: Path) -> Outcome:
    """The whole drill on the empty PostgreSQL database `database_url`; files in `directory`."""
    config = write_config(directory, PACE)
    with slack_process(USERS, PACE.scale, seed=20261126) as slack:
        env = environment(dict(os.environ), slack, database_url, config)
        migrate = [sys.executable, "-m", "bot", "migrate"]
        subprocess.run(migrate, env=env, cwd=REPO_ROOT, check=True, timeout=120)
        fleet = Fleet(directory, env)
        engine = make_engine(database_url)
        try:
            workers = [fleet.worker(f"worker-{n}") for n in range(WORKERS)]
            replicas = [fleet.serve(f"serve-{n}") for n in range(REPLICAS)]
            fleet.wait_ready()
            with RoundRobinProxy([f"127.0.0.1:{r.port}" for r in replicas]) as proxy:
                outcome = _drill(slack, Traffic(proxy.url, slack.signing_secret), workers, engine)
                assert min(proxy.answered.values()) > 0, "a replica answered nothing"
                return outcome
        except BaseException:
            for member in fleet.members:
                print(f"--- {member.name} (pid {member.pid}) ---\n{member.logged()[-4000:]}")
            raise
        finally:
            fleet.close()
            engine.dispose()


def report(outcome: Outcome) -> list[str]:
    """The drill's figures, each beside what it is measured against."""
    kill, takeover = outcome.kill, outcome.takeover
    window = 60 * PACE.scale
    dms = survey_dms(outcome.posts, DRILL_QUESTION)
    when = (outcome.boundary - kill.wall).total_seconds()
    fell = "fell while no leader was up" if outcome.leaderless_at_boundary else "was run before"
    return [
        f"killed -9 together: {_roles(kill)} {when:.1f} s before a minute was due, "
        f"after {kill.attempts} stop(s) "
        f"to find a moment between messages; {kill.drill_done} of {USERS} DMs were out; "
        f"jobs they held: {dict(sorted(kill.interrupted.items()))}",
        f"scheduler takeover: {takeover.leader_s:.2f} s (bound: job lease "
        f"{PACE.lease_seconds} s + 5 s = {PACE.lease_seconds + 5} s)",
        f"fan-out job takeover: {takeover.fanout_s:.2f} s (the job lease: {PACE.lease_seconds} s)",
        f"survey DMs: {len(dms)} people, {sum(1 for n in dms.values() if n == 1)} got exactly "
        f"one; ledger {dict(sorted(outcome.states.items()))} (`unconfirmed`: posted, its "
        "confirmation lost with the kill and settled by the run that took the job over)",
        f"new-db: {len(outcome.requests)} requests, "
        f"{sum(r.status == 'completed' for r in outcome.requests)} completed",
        f"scheduled runs: {len(outcome.ticking_runs)} due minutes, "
        f"{sum(outcome.ticking_runs.values())} round(s); the minute due at the kill {fell}",
        f"pace: {PACE.messages_per_minute} DMs per {window:.0f} s window (Slack's minute x "
        f"{PACE.scale}); {USERS} DMs need at least "
        f"{(math.ceil(USERS / PACE.messages_per_minute) - 1) * window:.0f} s",
    ]


def _roles(kill: Kill) -> str:
    leader, other = kill.victims
    if kill.fanout_runner is leader:
        return f"{leader.name} (scheduler leader, fan-out runner) and {other.name}"
    return f"{leader.name} (scheduler leader) and {other.name} (fan-out runner)"


def minutes_between(start: datetime, end: datetime) -> list[datetime]:
    """The minute boundaries in (start, end]."""
    moments, moment = [], start.replace(second=0, microsecond=0) + timedelta(minutes=1)
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


def _drill(slack: SlackProcess, traffic: Traffic, workers: list[Member], engine: Engine) -> Outcome:
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
    return Outcome(
        posts=slack.posts(),
        states=records.delivery_states(drill_round),
        every_user=records.users_in(drill_round, *DeliveryState),
        requests=records.requests(),
        jobs=records.jobs_by_kind(),
        ticking_runs=records.ticking_runs(),
        acks=[(r.status_code, r.text) for r in submitted],
        kill=kill,
        takeover=takeover,
        boundary=boundary,
        counted_from=counted_from,
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
            return Kill(at, wall, victims, runner, survivor, attempt, done, interrupted)
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
