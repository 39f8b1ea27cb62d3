"""Median provisioning time per engine, through the real provisioners on this machine.

For each engine, `RUNS` times: the steps a provisioning job runs (check, exists,
create_resource, create_user, grant, credentials) on a fresh name, then `drop`, each timed.
Baseline from the same run: the median of the engine's `check()`, one admin round trip
(connect + a trivial command), so each figure reads as a multiple of what merely talking to
that server costs. Every resource made here is dropped, also when a run fails.
"""

from __future__ import annotations

import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from integrations.provisioning import new_password
from integrations.provisioning.mariadb import MariaDBProvisioner
from integrations.provisioning.nats import NatsProvisioner
from integrations.provisioning.postgres import PostgresProvisioner
from integrations.provisioning.rabbitmq import (
    MANAGEMENT_TIMEOUT,
    RabbitMQProvisioner,
    default_management_url,
)
from integrations.provisioning.redis import RedisProvisioner
from integrations.provisioning.sqlite import SqliteProvisioner
from integrations.provisioning_protocols import PlanLimits, Provisioner, ResourceSpec

RUNS = 10
LIMITS = PlanLimits(connection_limit=10, max_bytes=64 * 1024 * 1024, max_messages=100_000)


@dataclass(frozen=True)
class EngineFigures:
    engine: str
    check_ms: float
    provision_ms: float
    drop_ms: float
    runs: int


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def _timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def measure_engine(provisioner: Provisioner, runs: int = RUNS) -> EngineFigures:
    checks, provisions, drops = [], [], []
    for _ in range(runs):
        checks.append(_timed(provisioner.check))
        spec = ResourceSpec(provisioner.engine, f"b{uuid.uuid4().hex[:10]}-db", LIMITS)
        password = new_password()

        def provision(spec: ResourceSpec = spec, password: str = password) -> None:
            provisioner.check()
            if provisioner.exists(spec):
                raise RuntimeError(f"{spec.name} exists before the run")
            provisioner.create_resource(spec)
            provisioner.create_user(spec, password)
            provisioner.grant(spec)
            provisioner.credentials(spec, password)

        try:
            provisions.append(_timed(provision))
        finally:
            drops.append(_timed(lambda spec=spec: provisioner.drop(spec)))
    return EngineFigures(
        provisioner.engine, _median_ms(checks), _median_ms(provisions), _median_ms(drops), runs
    )


def measure(runs: int = RUNS) -> list[EngineFigures]:
    with (
        tempfile.TemporaryDirectory(prefix="bench-sqlite-") as data_dir,
        httpx.Client(
            base_url=default_management_url("127.0.0.1"), timeout=MANAGEMENT_TIMEOUT
        ) as rabbitmq_api,
    ):
        provisioners: list[Provisioner] = [
            SqliteProvisioner(data_dir=data_dir),
            PostgresProvisioner(),
            MariaDBProvisioner(),
            RedisProvisioner(),
            RabbitMQProvisioner(rabbitmq_api, admin_user="guest", admin_password="guest"),
            NatsProvisioner(),
        ]
        return [measure_engine(provisioner, runs) for provisioner in provisioners]
