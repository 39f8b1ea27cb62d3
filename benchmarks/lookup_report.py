"""The "Lookups on a 50,000-entity catalog" section of benchmarks/README.md."""

from __future__ import annotations

from datetime import UTC, datetime

from benchmarks import ack_latency
from benchmarks import lookup as lookup_bench


def section(r: lookup_bench.LookupBenchmark, *, duration: float, machine: str) -> str:
    rows = [
        "| figure | example catalog (baseline) | 50,000-entity catalog |",
        "|---|---:|---:|",
        f"| entities | {r.example.entities:,} | {r.large.entities:,} |",
        f"| refresh: parse catalog-info.yaml files | {r.example.fetch_seconds:.2f} s "
        f"| {r.large.fetch_seconds:.2f} s |",
        f"| refresh: write the index (PostgreSQL) | {r.example.write_seconds:.2f} s "
        f"| {r.large.write_seconds:.2f} s |",
        f"| refresh: load the read model | {r.example.load_seconds:.2f} s "
        f"| {r.large.load_seconds:.2f} s |",
        f"| full refresh, end to end (read, write, new read model) "
        f"| {r.example.refreshes.full_seconds:.2f} s | {r.large.refreshes.full_seconds:.2f} s |",
        f"| incremental refresh, 1 % of entities changed "
        f"({r.example.refreshes.changed} / {r.large.refreshes.changed:,}), end to end "
        f"| {r.example.refreshes.incremental_seconds:.2f} s "
        f"| **{r.large.refreshes.incremental_seconds:.2f}** s |",
        f"| another process's reload after that incremental refresh "
        f"| {r.example.refreshes.replica_seconds:.2f} s "
        f"| {r.large.refreshes.replica_seconds:.2f} s |",
    ]
    for name, large in r.large.lookups.items():
        small = r.example.lookups[name]
        rows.append(
            f"| in-process `{name}` p50 / p99 | {small.p50:.3f} / {small.p99:.3f} ms "
            f"| {large.p50:.3f} / **{large.p99:.3f}** ms |"
        )
    help_ack, service_ack = r.served_large.help, r.served_large.service
    rows += [
        f"| serve RSS per worker, index loaded | {r.served_example.rss_mb:.0f} MB "
        f"| **{r.served_large.rss_mb:.0f}** MB |",
    ]
    worst = max(v.p99 for k, v in r.large.lookups.items() if k != "catalog search")
    incremental = r.large.refreshes
    incremental_verdict = (
        "not incremental"
        if not incremental.incremental
        else "within"
        if incremental.incremental_seconds <= 1
        else "OVER"
    )
    body = (
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine}; rotation-file on-call, "
        "PostgreSQL app database, identity cache warm.\n\n"
        + "\n".join(rows)
        + "\n\nAck latency under gunicorn "
        f"({ack_latency.WORKERS} workers x {ack_latency.THREADS} threads) with the 50,000-entity "
        f"index, {lookup_bench.CLIENTS} concurrent clients, {duration:.0f} s each:\n\n"
        "| command | requests | errors | throughput (req/s) | p50 (ms) | p99 (ms) |\n"
        "|---|---:|---:|---:|---:|---:|\n"
        f"| `/platform help` (baseline) | {help_ack.requests} | {help_ack.errors} "
        f"| {help_ack.throughput:.0f} | {help_ack.p50:.1f} | {help_ack.p99:.1f} |\n"
        f"| `/platform service NAME` | {service_ack.requests} | {service_ack.errors} "
        f"| {service_ack.throughput:.0f} | {service_ack.p50:.1f} | {service_ack.p99:.1f} |\n"
        f"\nLookup p99 **{worst:.3f} ms** (budget ≤ 5 ms: {'within' if worst <= 5 else 'OVER'}); "
        f"serve RSS **{r.served_large.rss_mb:.0f} MB** (budget ≤ 150 MB: "
        f"{'within' if r.served_large.rss_mb <= 150 else 'OVER'}); incremental refresh "
        f"**{incremental.incremental_seconds:.2f} s** beside {incremental.full_seconds:.2f} s full "
        f"(budget ≤ 1 s: {incremental_verdict}).\n"
    )
    return body
