"""The "`/platform new-db`" and "Modal-submit ack with provisioning in workers" sections of
benchmarks/README.md.

Beside latency the second reports the CPU time serve and the worker spend per submission, because on
a closed loop those bound the latency from below: `clients` clients can be answered at most
`cores / cpu` times a second, so each waits on average at least `clients * cpu / cores`.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from benchmarks import ack_latency
from benchmarks import new_db as new_db_bench
from benchmarks.new_db import AckFigures, EngineFigures

BUDGET_MS = 50.0
LABELS = {
    "process": "the serve process (`jobs.run_in: process`, baseline)",
    "workers": "a worker process (`jobs.run_in: workers`)",
}


def worker_section(
    figures: dict[str, AckFigures], *, duration: float, load: float, machine: str
) -> str:
    clients = new_db_bench.CLIENTS
    rows = [
        "| jobs run in | `/platform help` p50 / p99 (baseline) | modal submits | "
        "submit throughput (req/s) | submit p50 (ms) | submit p99 (ms) | serve CPU per submit "
        "(per help) | worker CPU per submit | provisioned meanwhile |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run_in, ack in figures.items():
        submit, help_ = ack.submit, ack.help
        rows.append(
            f"| {LABELS[run_in]} | {help_.result.p50:.1f} / {help_.result.p99:.1f} ms "
            f"| {submit.result.requests} | {submit.result.throughput:.0f} "
            f"| {submit.result.p50:.1f} | **{submit.result.p99:.1f}** "
            f"| {submit.serve_cpu_ms:.2f} ms ({help_.serve_cpu_ms:.2f} ms) "
            f"| {submit.worker_cpu_ms:.2f} ms | {ack.provisioned} |"
        )
    workers = figures["workers"]
    closed = workers.submit.result.p99
    cores = os.cpu_count() or 1
    cpu = workers.submit.serve_cpu_ms + workers.submit.worker_cpu_ms
    floor = clients * cpu / cores
    text = (
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine}; {clients} concurrent "
        f"clients (4 load processes), {duration:.0f} s each, gunicorn {ack_latency.WORKERS} "
        f"workers x {ack_latency.THREADS} threads, one worker process (2 job threads) on the "
        "same machine, PostgreSQL app database, a fresh database for each row; 1-minute load "
        f"average {load:.1f} at the start.\n\n"
        + "\n".join(rows)
        + f"\n\nClosed loop, provisioning in workers: modal-submit ack p99 **{closed:.1f} ms** "
        f"(budget ≤ {BUDGET_MS:.0f} ms: {_verdict(closed)}); in the serve process "
        f"{figures['process'].submit.result.p99:.1f} ms. Serve and the worker spend "
        f"{cpu:.1f} ms of CPU per answered submission (the database's and the load generator's not "
        f"counted), so on {cores} cores {clients} closed-loop clients wait on average at least "
        f"{clients} x {cpu:.1f} / {cores} = **{floor:.0f} ms** per submission, whatever the "
        "ack path does.\n"
    )
    if workers.paced is not None and workers.rate is not None:
        paced = workers.paced.result
        text += (
            f"\nOpen loop, provisioning in workers: {clients} clients submitting "
            f"{workers.rate:.0f} per second in all ({paced.requests} submits, "
            f"{paced.errors} errors, serve CPU {workers.paced.serve_cpu_ms:.2f} ms per submit): "
            f"ack p50 {paced.p50:.1f} ms, p99 **{paced.p99:.1f} ms** "
            f"(budget ≤ {BUDGET_MS:.0f} ms: {_verdict(paced.p99)}).\n"
        )
    return text


def new_db_section(
    ack: AckFigures,
    baseline: EngineFigures,
    engines: list[EngineFigures],
    *,
    duration: float,
    machine: str,
) -> str:
    rows = [
        "| request | requests | errors | throughput (req/s) | p50 (ms) | p99 (ms) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, run in (
        ("`/platform help` (baseline)", ack.help.result),
        ("new-db modal submit", ack.submit.result),
    ):
        rows.append(
            f"| {label} | {run.requests} | {run.errors} | {run.throughput:.0f} "
            f"| {run.p50:.1f} | {run.p99:.1f} |"
        )
    engine_rows = [
        "| engine | provision: submit → active (median) | drop: confirm → dropped (median) |",
        "|---|---:|---:|",
        f"| in-memory provisioner (baseline: the bot's own cost) | {baseline.provision_ms:.0f} ms "
        f"| {baseline.drop_ms:.0f} ms |",
    ]
    for f in engines:
        engine_rows.append(f"| {f.engine} | **{f.provision_ms:.0f} ms** | {f.drop_ms:.0f} ms |")
    verdict = "within" if ack.submit.result.p99 <= 50 else "OVER"
    body = (
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine}; "
        f"{new_db_bench.CLIENTS} concurrent clients, {duration:.0f} s each, gunicorn "
        f"{ack_latency.WORKERS} workers x {ack_latency.THREADS} threads, PostgreSQL app "
        "database; every submission is accepted and provisioned (SQLite) while the load runs.\n\n"
        + "\n".join(rows)
        + f"\n\nModal-submit ack p99 **{ack.submit.result.p99:.1f} ms** "
        f"(budget ≤ 50 ms: {verdict}).\n\n"
        f"Provisioning through the feature (request → `db.provision` job → active, progress "
        f"messages to the emulator), medians of {new_db_bench.RUNS} runs per engine on this "
        "machine's servers:\n\n" + "\n".join(engine_rows) + "\n"
    )
    return body


def _verdict(p99: float) -> str:
    return "within" if p99 <= BUDGET_MS else "OVER"
