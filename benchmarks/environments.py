"""`/platform env`: environments created through the feature, each beside its baseline.

1. Local: the `preview` template (PostgreSQL + Redis + RabbitMQ on this machine's servers)
   requested through `EnvRequests.submit` and made by its `env.create` job run in process
   (submit → ready), then destroyed through `EnvLifecycle.destroy` and its job. Baseline in
   the same run, alternating: one-resource environments of each engine (same key, plan and
   `LocalDriver`), so the slowest of them is what the three would cost if made in parallel.
2. Terraform: the `pg-terraform` template the same way (the `TerraformDriver`: init, plan,
   apply; init, destroy), beside the same module run directly through `TerraformWorkspace`
   (init, plan, apply, destroy) with the same Terraform, variables and local state.
3. RabbitMQ: the management-API provisioner (check → credentials, then drop) beside the
   `rabbitmqctl` calls the provisioner made before it (an Erlang VM per call), when that
   CLI can reach the node here.
4. Reading: 1,000 environments with three resources each over ten teams (some clones, some
   with approvals, a tenth no longer live) in a scratch app database; `EnvLifecycle.visible`
   and `EnvLifecycle.find` in process, beside `SELECT 1` through the same session factory.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import yaml
from sqlalchemy import text

from benchmarks import provisioning as provisioning_bench
from benchmarks import terraform as terraform_bench
from benchmarks.lookup import Latency, _measure
from benchmarks.new_db import REPO, bench_config
from bot.core.identity import Principal
from bot.emulator import Emulator
from bot.runtime.config import parse_config
from bot.runtime.local import local_bot
from bot.runtime.services import Services
from bot.runtime.settings import Settings
from commands.environments.feature import Environments
from commands.environments.models import EnvApproval, Environment, EnvResource, EnvStatus
from commands.environments.service.requests import FormValues
from integrations.provisioning.rabbitmq import (
    MANAGEMENT_TIMEOUT,
    RabbitMQProvisioner,
    default_management_url,
)
from integrations.terraform import LibterraformRunner, TerraformWorkspace

RUNS = 10
TERRAFORM_RUNS = 5
ENVIRONMENTS = 1_000
CALLS = 500
PREVIEW = {"db": "postgres", "cache": "redis", "queue": "rabbitmq"}
"""The `preview` template's resources; each is also a one-resource template, the baseline."""
TEAMS = ("payments", "search", "platform", *(f"team-{n}" for n in range(7)))
REQUESTER = "U0BOB"  # a member of payments in the emulator's workspace
RABBITMQ_PLAN = (20, {"max-length": 100_000})  # rabbitmq/small: connections, queue policy


@dataclass(frozen=True)
class Timing:
    create_s: float
    destroy_s: float


@dataclass(frozen=True)
class LocalFigures:
    preview: Timing
    single: dict[str, Timing]

    @property
    def slowest(self) -> tuple[str, Timing]:
        return max(self.single.items(), key=lambda item: item[1].create_s)

    @property
    def ratio(self) -> float:
        return self.preview.create_s / self.slowest[1].create_s


@dataclass(frozen=True)
class TerraformFigures:
    direct: Timing
    driver: Timing

    @property
    def ratio(self) -> float:
        return (self.driver.create_s + self.driver.destroy_s) / (
            self.direct.create_s + self.direct.destroy_s
        )


@dataclass(frozen=True)
class RabbitFigures:
    http: provisioning_bench.EngineFigures
    cli: provisioning_bench.EngineFigures | None
    cli_problem: str | None


@dataclass(frozen=True)
class ReadFigures:
    database: str
    visible: int
    select_one: Latency
    list: Latency
    show: Latency


def _config(tmp: Path) -> str:
    """The example config, quotas out of the way, a one-resource template per preview engine."""
    raw = yaml.safe_load(bench_config(tmp / "data"))
    section = raw["environments"]
    templates = section["templates"]
    for key, engine in PREVIEW.items():
        templates[f"one-{engine}"] = {
            "description": f"{engine} alone (benchmark baseline)",
            "tiers": ["dev"],
            "resources": {key: f"{engine}/small"},
        }
    # Paths are relative to the config, which lives in `tmp` here.
    templates["pg-terraform"]["module"] = str(terraform_bench.MODULE)
    templates["orders-api"]["score"] = str(REPO / templates["orders-api"]["score"])
    section["quotas"] = {"default": {"dev": 1_000_000, "staging": 1_000_000, "prod": 1_000}}
    # Local state, as the direct baseline has.
    section["terraform"].update(work_dir=str(tmp / "environments"), state="local")
    return yaml.safe_dump(raw)


@contextmanager
def _bot(database_url: str, tmp: Path) -> Iterator[Services]:
    config = parse_config(_config(tmp), tmp / "platform.yaml", os.environ)
    settings = Settings(database_url=database_url, platform_config=tmp / "platform.yaml")
    with (
        Emulator(rate_limits=None) as emulator,
        local_bot(settings, config, emulator=emulator, background=False) as bot,
    ):
        yield bot.services


def _create_and_destroy(services: Services, template: str) -> Timing:
    """Submit → `env.create` job → ready, then destroy → `env.destroy` job → destroyed."""
    api: Environments = services.feature("environments")
    principal = services.identity.principal(REQUESTER)
    name = f"b{uuid.uuid4().hex[:9]}"
    form = FormValues(template=template, name=name, tier="dev", team="payments")
    request = api.requests.check(principal, form)
    started = time.perf_counter()
    found = api.requests.submit(principal, request, f"bench:{name}")
    created = _jobs_done(services, started)
    _expect(api, principal, found.id, EnvStatus.READY)
    started = time.perf_counter()
    api.lifecycle.destroy(principal, found.id, name)
    destroyed = _jobs_done(services, started)
    _expect(api, principal, found.id, EnvStatus.DESTROYED)
    return Timing(created, destroyed)


def _jobs_done(services: Services, started: float) -> float:
    """Seconds since `started` once the queued jobs (and those they queue) have run."""
    while services.runner.run_once():
        pass
    return time.perf_counter() - started


def _expect(api: Environments, principal: Principal, env_id: str, status: EnvStatus) -> None:
    found = api.lifecycle.get(principal, env_id)
    if found.status != status:
        raise RuntimeError(f"{found.template}: {found.name} ended {found.status}, not {status}")


def _median(timings: list[Timing]) -> Timing:
    return Timing(
        statistics.median(t.create_s for t in timings),
        statistics.median(t.destroy_s for t in timings),
    )


def measure_local(database_url: str, runs: int = RUNS) -> LocalFigures:
    with tempfile.TemporaryDirectory() as tmp, _bot(database_url, Path(tmp)) as services:
        _create_and_destroy(services, "preview")  # warm-up: connections, imports
        preview: list[Timing] = []
        single: dict[str, list[Timing]] = {engine: [] for engine in PREVIEW.values()}
        for _ in range(runs):  # alternated, so that both see the same machine
            preview.append(_create_and_destroy(services, "preview"))
            for engine, timings in single.items():
                timings.append(_create_and_destroy(services, f"one-{engine}"))
    return LocalFigures(_median(preview), {e: _median(t) for e, t in single.items()})


def _direct_terraform(root: Path) -> Timing:
    """The example module as a person would run it with `TerraformWorkspace`."""
    name = f"tfb_{uuid.uuid4().hex[:10]}"
    variables = {
        "name": name,
        "password": "pw-" + name,
        "host": "127.0.0.1",
        "port": "5432",
        "admin_user": "postgres",
    }
    env = {**terraform_bench.ENV, "PGPASSWORD": os.environ.get("POSTGRES_ADMIN_PASSWORD", "")}
    workspace = TerraformWorkspace(root / name, runner=LibterraformRunner(), env=env)
    try:
        started = time.perf_counter()
        workspace.init(module=terraform_bench.MODULE)
        workspace.plan(variables)
        workspace.apply()
        created = time.perf_counter() - started
        started = time.perf_counter()
        workspace.destroy(variables)
        return Timing(created, time.perf_counter() - started)
    finally:
        terraform_bench._drop(name)
        shutil.rmtree(root / name, ignore_errors=True)


def measure_terraform(database_url: str, runs: int = TERRAFORM_RUNS) -> TerraformFigures:
    direct: list[Timing] = []
    driver: list[Timing] = []
    with tempfile.TemporaryDirectory() as tmp, _bot(database_url, Path(tmp)) as services:
        for _ in range(runs):  # alternated
            direct.append(_direct_terraform(Path(tmp) / "direct"))
            driver.append(_create_and_destroy(services, "pg-terraform"))
    return TerraformFigures(_median(direct), _median(driver))


def _ctl(*args: str, stdin: str = "") -> None:
    subprocess.run(
        ["rabbitmqctl", "-q", *args], input=stdin, capture_output=True, text=True, check=True
    )


def _cli_problem() -> str | None:
    if shutil.which("rabbitmqctl") is None:
        return "rabbitmqctl is not installed here"
    done = subprocess.run(["rabbitmqctl", "-q", "ping"], capture_output=True, text=True)
    if done.returncode != 0:
        first = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[0]
        return f"`rabbitmqctl ping` failed as this user: {first}"
    return None


def _measure_cli(runs: int) -> provisioning_bench.EngineFigures:
    """The calls the `rabbitmqctl` provisioner made, step for step (exit codes checked)."""
    connections, policy = RABBITMQ_PLAN
    checks, provisions, drops = [], [], []
    for _ in range(runs):
        name = f"b{uuid.uuid4().hex[:10]}-queue"
        checks.append(provisioning_bench._timed(lambda: _ctl("ping")))
        started = time.perf_counter()
        try:
            _ctl("ping")
            _ctl("list_vhosts", "name", "--formatter", "json")
            _ctl("list_users", "--formatter", "json")
            _ctl("add_vhost", name, "--description", "managed by platform-bot")
            _ctl("set_vhost_limits", "-p", name, json.dumps({"max-connections": connections}))
            _ctl("set_operator_policy", "-p", name, "platform-limits", ".*", json.dumps(policy),
                 "--apply-to", "queues")  # fmt: skip
            _ctl("add_user", name, stdin=f"pw-{uuid.uuid4().hex}\n")
            _ctl("set_user_tags", name)
            _ctl("set_permissions", "-p", name, name, ".*", ".*", ".*")
            provisions.append(time.perf_counter() - started)
        finally:
            started = time.perf_counter()
            _ctl("delete_vhost", name)
            _ctl("delete_user", name)
            drops.append(time.perf_counter() - started)
    median = provisioning_bench._median_ms
    return provisioning_bench.EngineFigures(
        "rabbitmq", median(checks), median(provisions), median(drops), runs
    )


def measure_rabbitmq(runs: int = RUNS) -> RabbitFigures:
    with httpx.Client(
        base_url=default_management_url("127.0.0.1"), timeout=MANAGEMENT_TIMEOUT
    ) as api:
        provisioner = RabbitMQProvisioner(api, admin_user="guest", admin_password="guest")
        http = provisioning_bench.measure_engine(provisioner, runs)
    problem = _cli_problem()
    cli = _measure_cli(runs) if problem is None else None
    return RabbitFigures(http, cli, problem)


def _fill(services: Services, count: int) -> list[str]:
    """`count` environments over TEAMS; the names of the live ones of payments."""
    rng = random.Random(3)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    visible: list[str] = []
    with services.sessions.begin() as session:
        previous: Environment | None = None
        for n in range(count):
            team = TEAMS[n % len(TEAMS)]
            live = n % 10 != 9
            name = f"env-{n:04d}"
            env = Environment(
                id=uuid.uuid4().hex, name=name, live_name=name if live else None,
                request_key=f"bench:{n}", template="preview", driver="local", tier="dev",
                team=team, requested_by=f"U{rng.randrange(50):07d}", reason=None,
                status=EnvStatus.READY if live else EnvStatus.DESTROYED,
                clone_of=previous.id if previous is not None and n % 7 == 0 else None,
                ttl_hours=72, max_ttl_hours=336, monthly_cost=23.0, currency="USD",
                inputs="{}", outputs=json.dumps({"db.name": f"{name}-db"}),
                approvals_needed=2 if n % 5 == 0 else 0, leftovers=False,
                created_at=start + timedelta(minutes=n),
                ready_at=start + timedelta(minutes=n, seconds=1),
                expires_at=start + timedelta(days=30, minutes=n),
            )  # fmt: skip
            session.add(env)
            session.flush()
            for key, engine in PREVIEW.items():
                session.add(
                    EnvResource(
                        environment_id=env.id, key=key, engine=engine, plan="small",
                        name=f"{name}-{key}", state="ready",
                    )
                )  # fmt: skip
            for approver in ("U0CAROL", "U0DAVE") if env.approvals_needed else ():
                session.add(
                    EnvApproval(environment_id=env.id, approver_id=approver, created_at=start)
                )
            if live and team == "payments":
                visible.append(name)
            previous = env
    return visible


def measure_reading(
    database: Callable[[], AbstractContextManager[str]], label: str, calls: int = CALLS
) -> ReadFigures:
    with (
        database() as database_url,
        tempfile.TemporaryDirectory() as tmp,
        _bot(database_url, Path(tmp)) as services,
    ):
        api: Environments = services.feature("environments")
        principal = services.identity.principal(REQUESTER)
        names = _fill(services, ENVIRONMENTS)
        shown = len(api.lifecycle.visible(principal))

        def select_one(_name: str) -> None:
            with services.sessions() as session:
                session.execute(text("SELECT 1")).scalar()

        return ReadFigures(
            database=label,
            visible=shown,
            select_one=_measure(select_one, names, calls),
            list=_measure(lambda _name: api.lifecycle.visible(principal), names, calls),
            show=_measure(lambda name: api.lifecycle.find(principal, name), names, calls),
        )


@contextmanager
def scratch_sqlite() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as tmp:
        yield f"sqlite:///{tmp}/bench.db"
