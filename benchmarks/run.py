"""`make bench`: run every benchmark and record the figures in benchmarks/README.md."""

from __future__ import annotations

import argparse
import os
import platform
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg import sql

from benchmarks import ack_latency

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
    verdict_p99 = "within" if result.bot.p99 <= 50 else "OVER"
    verdict_ratio = "within" if result.throughput_ratio >= 0.70 else "UNDER"
    body = (
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {_machine()}; "
        f"`/platform help`, {ack_latency.CLIENTS} concurrent clients, {duration:.0f} s each, "
        f"gunicorn {ack_latency.WORKERS} workers x {ack_latency.THREADS} threads, "
        "PostgreSQL app database, local Slack emulator.\n\n"
        + "\n".join(rows)
        + f"\n\nThroughput ratio bot / bare: **{result.throughput_ratio:.0%}** "
        f"(budget ≥ 70 %: {verdict_ratio}); bot p99 **{result.bot.p99:.1f} ms** "
        f"(budget ≤ 50 ms: {verdict_p99}).\n"
    )
    _replace_section("ack", body)
    print(body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measurement")
    args = parser.parse_args()
    bench_ack(args.duration)


if __name__ == "__main__":
    main()
