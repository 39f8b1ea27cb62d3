"""`/platform audit` query latency over 1,000,000 audit records in PostgreSQL.

The records are generated in the database (`INSERT … SELECT generate_series`, about a year of
them, newest now): 5,000 people with a skewed share each and `system` for a fifth, 40
actions in six families with a skewed share, targets named after the action's family
(`postgres:orders-…`, `env:pr-…`, `runbook:…#…`), outcomes weighted as the bot writes them.
Their hash chain is not valid (each record's hashes are filler): the chain is checked by
`platform-bot audit verify`, never read by a query, and linking a million records in Python
would take minutes and measure nothing here.

Each filter is timed through `AuditReader.page` (parse the filter text, run the query, load
the ten records of the page) with a different person, resource or environment on each call,
on two databases holding the same records (random() seeded alike): one with the indexes of
revision 0011 (the baseline), one brought to `0012_audit_indexes`. Calls alternate between
the two, so both see the same load on the machine. The unfiltered newest page is a second
baseline: the cheapest query the reader makes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from alembic import command
from sqlalchemy import Engine, text

from bot.core.db import make_engine, make_session_factory
from bot.runtime.schema import alembic_config
from commands.audit.service.filters import Directory, parse_filters
from commands.audit.service.query import AuditReader

RECORDS = 1_000_000
CALLS = 200
PEOPLE = 5_000
TEAM_SIZE = 25
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
BEFORE = "0011_audit_chain"
AFTER = "0012_audit_indexes"

_FAMILIES = {
    "db": ["create", "drop", "rotate", "resize", "restore", "backup", "grant"],
    "env": ["create", "destroy", "extend", "clone", "deploy", "promote", "suspend"],
    "runbook": ["run", "step", "approve", "cancel", "publish", "retry"],
    "nps": ["run", "pause", "resume", "export", "answer", "remind"],
    "catalog": ["refresh", "register", "unregister", "edit", "sync", "import"],
    "service": ["create", "archive", "transfer", "template", "rename", "docs", "lint", "scan"],
}
ACTIONS = [f"{family}.{verb}" for family, verbs in _FAMILIES.items() for verb in verbs]
# As often as the bot writes them: most requests end, a few fail or wait for a vote.
OUTCOMES = ["requested"] * 7 + ["succeeded"] * 6 + ["approved"] * 2 + ["failed", "denied"]

SEED = f"""
INSERT INTO audit_record
    (created_at, actor, action, outcome, inputs, target, detail, prev_hash, hash)
SELECT
    :now - make_interval(secs => (:records - g) * 31.5),
    CASE WHEN r.a < 0.2 THEN 'system'
         ELSE 'U' || lpad((floor({PEOPLE} * power(random(), 2)))::text, 7, '0') END,
    r.action,
    CASE WHEN r.rare < 0.001 THEN 'expired'
         ELSE (ARRAY[{", ".join(f"'{o}'" for o in OUTCOMES)}])[1 + floor(r.o * {len(OUTCOMES)})]
         END,
    '{{}}'::jsonb,
    CASE split_part(r.action, '.', 1)
        WHEN 'db' THEN 'postgres:orders-' || floor(random() * 20000)
        WHEN 'env' THEN 'env:pr-' || floor(random() * 20000)
        WHEN 'runbook' THEN 'runbook:restart#' || g
        WHEN 'service' THEN 'component:default/svc-' || floor(random() * 5000)
        ELSE NULL END,
    NULL,
    md5(g::text) || md5(g::text),
    md5((g + 1)::text) || md5((g + 1)::text)
FROM generate_series(1, :records) AS g,
LATERAL (SELECT random() + g * 0 AS a, random() + g * 0 AS rare, random() + g * 0 AS o,
         (ARRAY[{", ".join(f"'{a}'" for a in ACTIONS)}])
             [1 + floor(power(random() + g * 0, 1.5) * {len(ACTIONS)})] AS action) AS r
"""


def _user(i: int) -> str:
    """A person of middling activity (a few hundred records), a different one per call."""
    return f"U{PEOPLE // 4 + (i * 37) % (PEOPLE // 2):07d}"


CASES: dict[str, Callable[[int], str]] = {
    "newest page, no filter (baseline)": lambda i: "",
    "`user:@person` (~150 records each)": lambda i: f"user:{_user(i)}",
    "`user:system` (a fifth of the log)": lambda i: "user:system",
    "`team:payments` (25 people)": lambda i: "team:payments",
    "`action:db.*`": lambda i: "action:db.*",
    "`action:service.lint`": lambda i: "action:service.lint",
    "`target:orders-1NNNN` (one database)": lambda i: f"target:orders-{10000 + i * 37}",
    "`target:env:pr-1NNNN` (one environment)": lambda i: f"target:env:pr-{10000 + i * 41}",
    "`outcome:failed`": lambda i: "outcome:failed",
    "`outcome:expired` (0.1 %)": lambda i: "outcome:expired",
    "`since:7d`": lambda i: "since:7d",
    "`since:7d outcome:expired`": lambda i: "since:7d outcome:expired",
    "`action:db.* outcome:failed since:7d`": lambda i: "action:db.* outcome:failed since:7d",
    "`user:@person action:env.*`": lambda i: f"user:{_user(i)} action:env.*",
}


@dataclass(frozen=True)
class Latency:
    p50: float
    p99: float


@dataclass(frozen=True)
class AuditFigures:
    records: int
    seed_s: float
    index_s: float
    before: dict[str, Latency]
    after: dict[str, Latency]
    deep_before: Latency
    deep_after: Latency


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(int(q * len(ordered) + 0.999999) - 1, 0)]


def _latency(samples: list[float]) -> Latency:
    return Latency(_percentile(samples, 0.5), _percentile(samples, 0.99))


Reader = tuple[AuditReader, Directory]


def _pair(before: Reader, after: Reader, case: Callable[[int], str]) -> tuple[Latency, Latency]:
    """The same page on both databases, call by call: both see the same load on the machine."""
    samples: tuple[list[float], list[float]] = ([], [])
    for i in range(CALLS):
        for (reader, directory), found in zip((before, after), samples, strict=True):
            started = time.perf_counter()
            reader.page(parse_filters(case(i).split(), directory, NOW))
            found.append((time.perf_counter() - started) * 1000)
    return _latency(samples[0]), _latency(samples[1])


def _deep(before: Reader, after: Reader) -> tuple[Latency, Latency]:
    """Pages 2-4 of a person's records: keyset paging reads the ids below the last shown."""
    samples: tuple[list[float], list[float]] = ([], [])
    for i in range(CALLS // 4):
        for (reader, directory), found in zip((before, after), samples, strict=True):
            where = parse_filters([f"user:{_user(i)}"], directory, NOW)
            page = reader.page(where)
            for _ in range(3):
                if not page.has_older:
                    break
                started = time.perf_counter()
                page = reader.page(where, older_than=page.records[-1].id)
                found.append((time.perf_counter() - started) * 1000)
    return _latency(samples[0]), _latency(samples[1])


def _reader(engine: Engine) -> Reader:
    members = [_user(n * 11) for n in range(TEAM_SIZE)]
    directory = Directory(
        user_named=lambda _name: None, teams=("payments",), team_members=lambda _t: members
    )
    reader = AuditReader(sessions=make_session_factory(engine), clock=lambda: NOW)
    for case in CASES.values():  # the connection pool and the plan caches, warm once
        reader.page(parse_filters(case(0).split(), directory, NOW))
    return reader, directory


def _upgrade(engine: Engine, revision: str) -> None:
    config = alembic_config()
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        connection.commit()


def _seed(engine: Engine) -> float:
    """The records, the same in every database (a fixed seed for random()); seconds taken."""
    _upgrade(engine, BEFORE)
    started = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(text("SELECT setseed(0.42)"))
        connection.execute(text(SEED), {"now": NOW, "records": RECORDS})
    _analyze(engine)
    return time.perf_counter() - started


def _analyze(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(
            text("VACUUM ANALYZE audit_record")
        )


def measure(before_url: str, after_url: str) -> AuditFigures:
    """Two databases with the same records: one left at 0011, one brought to 0012."""
    engines = make_engine(before_url), make_engine(after_url)
    try:
        seed_s = _seed(engines[0])
        _seed(engines[1])
        started = time.perf_counter()
        _upgrade(engines[1], AFTER)
        _analyze(engines[1])
        index_s = time.perf_counter() - started
        before, after = _reader(engines[0]), _reader(engines[1])
        pairs = {label: _pair(before, after, case) for label, case in CASES.items()}
        deep_before, deep_after = _deep(before, after)
        return AuditFigures(
            RECORDS,
            seed_s,
            index_s,
            before={label: pair[0] for label, pair in pairs.items()},
            after={label: pair[1] for label, pair in pairs.items()},
            deep_before=deep_before,
            deep_after=deep_after,
        )
    finally:
        for engine in engines:
            engine.dispose()
