"""`make bench`: run every benchmark and record the figures in benchmarks/README.md."""

from __future__ import annotations

import argparse
import os
import platform
import re
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg import sql

from benchmarks import ack_latency, environments_report, fanout, lookup_report, new_db_report
from benchmarks import audit as audit_bench
from benchmarks import docs as docs_bench
from benchmarks import environments as environments_bench
from benchmarks import home as home_bench
from benchmarks import lookup as lookup_bench
from benchmarks import new_db as new_db_bench
from benchmarks import new_service as new_service_bench
from benchmarks import provisioning as provisioning_bench
from benchmarks import terraform as terraform_bench
from tests.runtime import failover_run

README = Path(__file__).resolve().parent / "README.md"
POSTGRES_ADMIN_URL = os.environ.get(
    "PLATFORM_BOT_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@contextmanager
def scratch_postgres() -> Iterator[str]:
    name = f"platform_bot_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def _replace_section(name: str, body: str) -> None:
    text = README.read_text()
    pattern = re.compile(rf"(<!-- {name}:start -->\n).*?(<!-- {name}:end -->)", re.S)
    if not pattern.search(text):
        raise SystemExit(f"benchmarks/README.md has no {name} section markers")
    README.write_text(pattern.sub(lambda m: m.group(1) + body + m.group(2), text))


def _machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def bench_ack(duration: float) -> None:
    with scratch_postgres() as database_url:
        result = ack_latency.measure(database_url, duration=duration)
    rows = [
        "| server | requests | errors | throughput (req/s) | p50 (ms) | p99 (ms) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, run in (
        ("bare Bolt app (only acks)", result.bare),
        ("platform-bot serve", result.bot),
    ):
        rows.append(
            f"| {label} | {run.requests} | {run.errors} | {run.throughput:.0f} "
            f"| {run.p50:.1f} | {run.p99:.1f} |"
        )
    p99_ratio = result.bot.p99 / result.bare.p99
    verdict_p99 = "within" if p99_ratio <= 1.5 else "OVER"
    verdict_ratio = "within" if result.throughput_ratio >= 0.90 else "UNDER"
    body = (
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {_machine()}; "
        f"`/platform help`, {ack_latency.CLIENTS} concurrent clients, {duration:.0f} s each, "
        f"gunicorn {ack_latency.WORKERS} workers x {ack_latency.THREADS} threads, "
        "PostgreSQL app database, local Slack emulator.\n\n"
        + "\n".join(rows)
        + f"\n\nThroughput ratio bot / bare: **{result.throughput_ratio:.0%}** "
        f"(budget ≥ 90 %: {verdict_ratio}); bot p99 **{result.bot.p99:.1f} ms**, "
        f"{p99_ratio:.2f}x the bare app's (budget ≤ 1.5x: {verdict_p99}).\n"
    )
    _replace_section("ack", body)
    print(body)


def bench_fanout() -> None:
    with scratch_postgres() as database_url:
        r = fanout.measure(database_url)
    with scratch_postgres() as database_url:
        two = fanout.measure(database_url, replicas=2)
    verdict = "within" if r.ratio <= 1.10 and not r.duplicates and not r.missing else "OVER"
    body = (
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {_machine()}; {r.users} people, "
        f"emulator limits `RateLimits.slack().scaled({fanout.SCALE})` (chat.postMessage: "
        f"{r.calls_per_window} per {r.window_seconds:g} s window), "
        f"{fanout.FAULT_PROBABILITY:.0%} of posts answered 429 at random, "
        f"{fanout.SENDERS} senders, PostgreSQL.\n\n"
        "| figure | value |\n|---|---:|\n"
        f"| bound the limits allow (baseline) | {r.bound_seconds:.1f} s |\n"
        f"| fan-out time | {r.seconds:.1f} s |\n"
        f"| fan-out / bound | **{r.ratio:.2f}x** (budget ≤ 1.10x: {verdict}) |\n"
        f"| DMs delivered exactly once | {r.delivered} of {r.users} |\n"
        f"| duplicates / missing | {r.duplicates} / {r.missing} |\n"
        f"| chat.postMessage calls / 429s | {r.post_calls} / {r.rate_limited} |\n"
        f"| audience resolution (users.list, Tier 2) | {r.audience_seconds:.1f} s |\n"
        f"| two processes, one shared pace: time / bound | {two.seconds:.1f} s / "
        f"{two.bound_seconds:.1f} s = **{two.ratio:.2f}x** |\n"
        f"| two processes: delivered once / duplicates / missing / 429s | "
        f"{two.delivered} / {two.duplicates} / {two.missing} / {two.rate_limited} |\n"
    )
    _replace_section("fanout", body)
    print(body)


def bench_failover() -> None:
    """The acceptance test's drill (tests/runtime/test_failover.py), its figures recorded."""
    with scratch_postgres() as database_url, tempfile.TemporaryDirectory() as tmp:
        outcome = failover_run.run_drill(database_url, Path(tmp))
    bound = failover_run.PACE.lease_seconds + 5
    verdict = "within" if outcome.takeover.leader_s <= bound else "OVER"
    body = (
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {_machine()}; "
        f"{failover_run.REPLICAS} serve replicas (gunicorn, 1 worker each) behind a "
        f"round-robin proxy, {failover_run.WORKERS} workers, PostgreSQL, the emulator at "
        f"Slack's limits x {failover_run.PACE.scale}.\n\n"
        + "\n".join(f"- {line}" for line in failover_run.report(outcome))
        + f"\n\nScheduler takeover **{outcome.takeover.leader_s:.2f} s** "
        f"(budget ≤ job lease + 5 s = {bound} s: {verdict}).\n"
    )
    _replace_section("failover", body)
    print(body)


def bench_lookup(duration: float) -> None:
    r = lookup_bench.run(scratch_postgres, duration=duration)
    body = lookup_report.section(r, duration=duration, machine=_machine())
    _replace_section("lookup", body)
    print(body)


def bench_provisioning() -> None:
    figures = provisioning_bench.measure()
    rows = [
        "| engine | admin round trip, `check()` (baseline) | provision (check → credentials) "
        "| drop | provision / baseline |",
        "|---|---:|---:|---:|---:|",
    ]
    for f in figures:
        rows.append(
            f"| {f.engine} | {f.check_ms:.1f} ms | **{f.provision_ms:.1f} ms** "
            f"| {f.drop_ms:.1f} ms | {f.provision_ms / max(f.check_ms, 0.001):.0f}x |"
        )
    body = (
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {_machine()}; medians of "
        f"{provisioning_bench.RUNS} runs per engine against this machine's servers.\n\n"
        + "\n".join(rows)
        + "\n"
    )
    _replace_section("provisioning", body)
    print(body)


def bench_new_db(duration: float) -> None:
    with scratch_postgres() as database_url:
        ack = new_db_bench.measure_ack(database_url, duration=duration)
    with scratch_postgres() as database_url:
        baseline, engines = new_db_bench.measure_provisioning(database_url)
    body = new_db_report.new_db_section(
        ack, baseline, engines, duration=duration, machine=_machine()
    )
    _replace_section("new-db", body)
    print(body)


def bench_worker(duration: float) -> None:
    """Modal-submit ack with provisioning in `platform-bot worker` vs in the serve process."""
    # Other work on the machine moves both rows; the load says how much there was.
    load = os.getloadavg()[0]
    figures = {}
    for run_in in ("process", "workers"):
        with scratch_postgres() as database_url:
            figures[run_in] = new_db_bench.measure_ack(
                database_url,
                duration=duration,
                run_in=run_in,
                rate=new_db_bench.PACED_RATE if run_in == "workers" else None,
            )
    body = new_db_report.worker_section(figures, duration=duration, load=load, machine=_machine())
    _replace_section("worker", body)
    print(body)


def bench_terraform() -> None:
    pairs = terraform_bench.measure()
    rows = [
        "| Terraform | run directly (baseline) | through `TerraformWorkspace` | ratio |",
        "|---|---:|---:|---:|",
    ]
    for pair in pairs:
        rows.append(
            f"| {pair.runner} | {pair.direct_s:.2f} s | **{pair.workspace_s:.2f} s** "
            f"| {pair.ratio:.2f}x |"
        )
    worst = max(pair.ratio for pair in pairs)
    verdict = "within" if worst <= 1.2 else "OVER"
    body = (
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {_machine()}; plan + apply + destroy "
        f"of `examples/terraform/postgres-database` on the local PostgreSQL, medians of "
        f"{terraform_bench.RUNS} runs, alternating.\n\n"
        + "\n".join(rows)
        + f"\n\nWorst ratio **{worst:.2f}x** (target ≤ 1.2x: {verdict}).\n"
    )
    _replace_section("terraform", body)
    print(body)


def bench_environments() -> None:
    with scratch_postgres() as database_url:
        local = environments_bench.measure_local(database_url)
        terraform = environments_bench.measure_terraform(database_url)
    rabbit = environments_bench.measure_rabbitmq()
    reads = [
        environments_bench.measure_reading(environments_bench.scratch_sqlite, "SQLite"),
        environments_bench.measure_reading(scratch_postgres, "PostgreSQL"),
    ]
    body = environments_report.section(local, terraform, rabbit, reads, machine=_machine())
    _replace_section("environments", body)
    print(body)


def bench_new_service() -> None:
    result = new_service_bench.measure()
    ratio = result.feature_s / result.copier_s
    body = (
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {_machine()}; the example "
        "`python-service` template, SQLite app database, jobs run in process, medians of "
        f"{new_service_bench.RUNS} runs alternated with the baselines:\n\n"
        "| path | median |\n|---|---:|\n"
        "| copier alone (`run_copy` into a temporary directory) | "
        f"{result.copier_s * 1000:.0f} ms |\n"
        f"| copier + git init/commit/push to a new bare repository | "
        f"{result.copier_git_s * 1000:.0f} ms |\n"
        f"| **feature**: submit → repository pushed, catalog-info written, catalog index "
        f"refreshed ({result.catalog_entities} entities) | **{result.feature_s * 1000:.0f} ms** |\n"
        f"\nFeature / copier alone: **{ratio:.2f}x**; the bot's own share over copier + git "
        f"(form checks, request row, job, catalog refresh): "
        f"{(result.feature_s - result.copier_git_s) * 1000:.0f} ms.\n"
    )
    _replace_section("new-service", body)


def bench_docs() -> None:
    figures = docs_bench.run(
        [("SQLite", docs_bench.scratch_sqlite), ("PostgreSQL", scratch_postgres)]
    )
    rows = [
        "| database | figure | example tree (baseline) | 10,000-page tree |",
        "|---|---|---:|---:|",
    ]
    for f in figures:
        small, large = f.example, f.large
        rows += [
            f"| {f.database} | pages | {small.pages:,} | {large.pages:,} |",
            f"| {f.database} | index build | {small.build_s:.2f} s | **{large.build_s:.2f} s** |",
            f"| {f.database} | refresh, nothing changed | {small.unchanged_s:.3f} s "
            f"| {large.unchanged_s:.2f} s |",
            f"| {f.database} | refresh, 1 % edited ({small.changed} / {large.changed} pages) "
            f"| {small.incremental_s:.3f} s | **{large.incremental_s:.2f} s** |",
            f"| {f.database} | search p50 / p99 "
            f"| {small.search.p50:.2f} / {small.search.p99:.2f} ms "
            f"| {large.search.p50:.2f} / **{large.search.p99:.2f}** ms |",
        ]
    worst = max(f.large.search.p99 for f in figures)
    body = (
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {_machine()}; in-process "
        f"`DocsIndex.search` ({docs_bench.SEARCHES:,} queries of 1-4 words each tree: the "
        "example tree's realistic questions, Zipf-drawn words on the generated tree), "
        "PostgreSQL with the `english` configuration.\n\n"
        + "\n".join(rows)
        + f"\n\nWorst search p99 on 10,000 pages **{worst:.2f} ms** (budget ≤ 20 ms: "
        f"{'within' if worst <= 20 else 'OVER'}).\n"
    )
    _replace_section("docs", body)
    print(body)


def bench_home() -> None:
    figures = home_bench.run(scratch_postgres)
    rows = [
        "| app database | `/platform help`, signed HTTP (baseline) p50 / p99 "
        "| App Home, bot time p50 / p99 | App Home, end to end p50 / p99 | blocks |",
        "|---|---:|---:|---:|---:|",
    ]
    for f in figures:
        rows.append(
            f"| {f.database} | {f.help.p50:.1f} / {f.help.p99:.1f} ms "
            f"| {f.bot_time.p50:.1f} / **{f.bot_time.p99:.1f}** ms "
            f"| {f.end_to_end.p50:.1f} / {f.end_to_end.p99:.1f} ms | {f.blocks} |"
        )
    worst = max(f.bot_time.p99 for f in figures)
    body = (
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {_machine()}; the bot in process "
        f"(every feature, local Slack emulator), an admin with {home_bench.RESOURCES} "
        f"databases and {home_bench.APPROVALS} approvals waiting, {home_bench.CALLS} calls "
        f"each ({home_bench.END_TO_END_CALLS} end to end).\n\n"
        + "\n".join(rows)
        + f"\n\nWorst bot-time p99 **{worst:.1f} ms** "
        f"(budget ≤ 100 ms: {'within' if worst <= 100 else 'OVER'}).\n"
    )
    _replace_section("home", body)
    print(body)


def bench_audit() -> None:
    with scratch_postgres() as before_url, scratch_postgres() as after_url:
        r = audit_bench.measure(before_url, after_url)
    rows = [
        "| filter | 0011 indexes (baseline) p50 / p99 | 0012 indexes p50 / p99 |",
        "|---|---:|---:|",
    ]
    for label, after in r.after.items():
        before = r.before[label]
        rows.append(
            f"| {label} | {before.p50:.2f} / {before.p99:.2f} ms "
            f"| {after.p50:.2f} / **{after.p99:.2f}** ms |"
        )
    rows.append(
        f"| next page of `user:@person` (keyset, `id < last`) | {r.deep_before.p50:.2f} / "
        f"{r.deep_before.p99:.2f} ms | {r.deep_after.p50:.2f} / **{r.deep_after.p99:.2f}** ms |"
    )
    worst = max([a.p99 for a in r.after.values()] + [r.deep_after.p99])
    body = (
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {_machine()}; {r.records:,} records "
        f"(seeded in {r.seed_s:.0f} s, indexes of 0012 built in {r.index_s:.0f} s), "
        f"{audit_bench.CALLS} pages per filter through `AuditReader.page`, PostgreSQL.\n\n"
        + "\n".join(rows)
        + f"\n\nWorst p99 with the 0012 indexes **{worst:.2f} ms** (budget ≤ 50 ms: "
        f"{'within' if worst <= 50 else 'OVER'}).\n"
    )
    _replace_section("audit", body)
    print(body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measurement")
    parser.add_argument(
        "--only",
        choices=[
            "ack",
            "fanout",
            "lookup",
            "provisioning",
            "new-db",
            "worker",
            "terraform",
            "environments",
            "new-service",
            "docs",
            "home",
            "audit",
            "failover",
        ],
        help="run one benchmark",
    )
    args = parser.parse_args()
    if args.only in (None, "ack"):
        bench_ack(args.duration)
    if args.only in (None, "fanout"):
        bench_fanout()
    if args.only in (None, "lookup"):
        bench_lookup(args.duration)
    if args.only in (None, "provisioning"):
        bench_provisioning()
    if args.only in (None, "new-db"):
        bench_new_db(args.duration)
    if args.only in (None, "worker"):
        bench_worker(args.duration)
    if args.only in (None, "terraform"):
        bench_terraform()
    if args.only in (None, "environments"):
        bench_environments()
    if args.only in (None, "new-service"):
        bench_new_service()
    if args.only in (None, "docs"):
        bench_docs()
    if args.only in (None, "home"):
        bench_home()
    if args.only in (None, "audit"):
        bench_audit()
    if args.only in (None, "failover"):
        bench_failover()


if __name__ == "__main__":
    main()
