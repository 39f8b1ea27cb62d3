"""`/platform new-db`: modal-submit ack latency under load, and provisioning time per engine.

1. Ack: `platform-bot serve` (gunicorn, as in ack_latency) on the example config, with
   quotas raised so that every submission is accepted. 20 closed-loop clients first send
   `/platform help` (the baseline), then submit the request modal (a signed `view_submission`
   with a fresh name each time, SQLite engine, dev tier); each submission records a request,
   queues a durable job and is provisioned in the background while the load runs.
2. Provisioning: the feature in process on the real provisioners of this machine's servers.
   For each engine, RUNS times: submit a dev request, run its `db.provision` job to `active`
   (timed), then drop it through `drop-db` and its job. Baseline from the same run: the same
   request and job with an in-memory provisioner, i.e. the bot's own cost (app database,
   progress messages to the emulator) without any server.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import yaml
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from benchmarks.ack_latency import THREADS, WORKERS, _free_port, _server
from benchmarks.load import LoadResult, run_bodies, slash_commands
from bot.core.db import make_engine
from bot.core.jobs import Job, JobStatus
from bot.emulator import Emulator
from bot.runtime.config import parse_config
from bot.runtime.features import FEATURES
from bot.runtime.local import local_bot
from bot.runtime.services import Services, build_services
from bot.runtime.settings import Settings
from commands.new_db.ids import ActionId, BlockId, CallbackId, JobKind
from commands.new_db.service.form import NewDbForm
from integrations.fakes import FakeProvisioner

CLIENTS = 20
# The open-loop measurement's rate of submissions, in all: far above what people submit in
# any workspace, and under what the machine can serve, so the figure shows the ack path
# rather than a queue.
PACED_RATE = 50.0
RUNS = 10
ENGINES = ("postgres", "mariadb", "redis", "rabbitmq", "nats", "sqlite")
REPO = Path(__file__).resolve().parent.parent
# Users of the emulator's workspace, each submitting for a team they belong to.
SUBMITTERS = [("U0BOB", "payments"), ("U0CAROL", "payments"), ("U0DAVE", "search")]


@dataclass(frozen=True)
class AckFigures:
    help: MeasuredLoad
    submit: MeasuredLoad
    paced: MeasuredLoad | None
    """The submits on an open loop at `rate` per second (None: not measured)."""
    rate: float | None
    accepted: int
    provisioned: int
    """`db.provision` jobs that had succeeded when the submit load ended."""


@dataclass(frozen=True)
class EngineFigures:
    engine: str
    provision_ms: float
    drop_ms: float


def bench_config(data_dir: Path, *, run_in: str = "process") -> str:
    """The example config as YAML, with room in the quotas and files under `data_dir`, to be
    written beside `data_dir` (where the repository's `examples` are linked); jobs run in
    `run_in` (process: the serve workers, workers: `platform-bot worker`)."""
    raw = yaml.safe_load((REPO / "platform.example.yaml").read_text())
    raw["jobs"]["run_in"] = run_in
    databases = raw["databases"]
    databases["data_dir"] = str(data_dir)
    databases["engines"]["sqlite"]["data_dir"] = str(data_dir / "sqlite")
    databases["quotas"] = {"default": {"dev": 1_000_000, "staging": 1_000_000, "prod": 1_000}}
    databases["provision_attempts"] = 1
    # Paths in the config (catalog, rotations, templates, docs, runbooks) are relative to the
    # config's directory, beside `data_dir`: the repository's examples are linked in there.
    examples = data_dir.parent / "examples"
    if not examples.exists():
        examples.symlink_to(REPO / "examples", target_is_directory=True)
    return yaml.safe_dump(raw)


def submission_body(team_id: str, app_id: str, n: int) -> str:
    """The `n`th submission of the request form: a fresh name, from the submitters in turn."""
    user, team = SUBMITTERS[n % len(SUBMITTERS)]
    return request_form_body(
        user,
        team,
        f"b{uuid.uuid4().hex[:12]}",
        team_id=team_id,
        app_id=app_id,
        trigger=f"bench.{n}",
    )


def request_form_body(
    user: str, team: str, name: str, *, team_id: str, app_id: str, trigger: str
) -> str:
    """A signed-ready `view_submission` body of the new-db request form: a dev SQLite
    database called `name` for `team`, submitted by `user`."""
    values = {
        BlockId.ENGINE: {ActionId.ENGINE: {"selected_option": {"value": "sqlite"}}},
        BlockId.NAME: {ActionId.NAME: {"value": name}},
        BlockId.TIER: {ActionId.TIER: {"selected_option": {"value": "dev"}}},
        BlockId.TEAM: {ActionId.TEAM: {"selected_option": {"value": team}}},
        BlockId.PLAN: {ActionId.PLAN: {"selected_option": {"value": "small"}}},
        BlockId.TTL: {ActionId.TTL: {"value": "72"}},
    }
    payload = {
        "type": "view_submission",
        "user": {"id": user, "team_id": team_id},
        "api_app_id": app_id,
        "team": {"id": team_id, "domain": "acme"},
        "trigger_id": trigger,
        "view": {
            "id": f"V{uuid.uuid4().hex[:12].upper()}",
            "type": "modal",
            "callback_id": CallbackId.NEW_DB,
            "private_metadata": json.dumps({"channel": "C0GENERAL"}),
            "state": {
                "values": {str(b): {str(a): v for a, v in f.items()} for b, f in values.items()}
            },
        },
    }
    return urlencode({"payload": json.dumps(payload)})


def _tree_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and its children (gunicorn's workers)."""
    total = 0.0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except FileNotFoundError:  # a worker that has just exited
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        pending.extend(int(child) for child in children)
    return total


@dataclass(frozen=True)
class MeasuredLoad:
    """One measurement of load, and the CPU the bot's processes spent on it."""

    result: LoadResult
    serve_cpu_ms: float
    """serve's CPU time per answered request."""
    worker_cpu_ms: float


def _measured(
    run: Callable[[], LoadResult], serve: subprocess.Popen[bytes], worker: int | None
) -> MeasuredLoad:
    def cpu() -> tuple[float, float]:
        return _tree_cpu_seconds(serve.pid), _tree_cpu_seconds(worker) if worker else 0.0

    serve_before, worker_before = cpu()
    result = run()
    serve_after, worker_after = cpu()
    answered = max(1, result.requests)
    return MeasuredLoad(
        result,
        serve_cpu_ms=(serve_after - serve_before) * 1000 / answered,
        worker_cpu_ms=(worker_after - worker_before) * 1000 / answered,
    )


def measure_ack(
    database_url: str,
    *,
    duration: float = 10.0,
    warmup: float = 3.0,
    run_in: str = "process",
    rate: float | None = None,
) -> AckFigures:
    """Help, then modal submits, on `serve`; with `run_in="workers"` a `platform-bot worker`
    process beside it runs the provisioning jobs and serve only acks and enqueues. With
    `rate`, the submits also run on an open loop at `rate` per second."""
    with tempfile.TemporaryDirectory() as tmp, Emulator(rate_limits=None) as emulator:
        config_path = Path(tmp) / "platform.yaml"
        config_path.write_text(bench_config(Path(tmp) / "data", run_in=run_in))
        env = {
            **os.environ,
            "SLACK_API_URL": emulator.api_url,
            "SLACK_BOT_TOKEN": emulator.bot_token,
            "SLACK_SIGNING_SECRET": emulator.signing_secret,
            "DATABASE_URL": database_url,
            "PLATFORM_CONFIG": str(config_path),
            "LOG_LEVEL": "WARNING",
            # The workers share the app database, so they must share the credential key.
            "PLATFORM_BOT_SECRET_KEY": Fernet.generate_key().decode(),
        }
        subprocess.run([sys.executable, "-m", "bot", "migrate"], env=env, check=True)
        port = _free_port()
        command = [
            sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port),
            "--workers", str(WORKERS), "--threads", str(THREADS),
        ]  # fmt: skip
        workspace = emulator.backend.workspace
        helps = functools.partial(slash_commands, "help", [u for u, _ in SUBMITTERS])
        submits = functools.partial(submission_body, workspace.team.id, workspace.app.id)
        url = f"http://127.0.0.1:{port}/slack/events"
        load = functools.partial(
            run_bodies, url, emulator.signing_secret, clients=CLIENTS, rejected=b"errors"
        )
        with (
            _server(command, env, f"http://127.0.0.1:{port}/healthz") as serve,
            _worker(run_in, env) as worker,
        ):
            load(helps, duration=warmup)
            load(submits, duration=warmup)
            baseline = _measured(lambda: load(helps, duration=duration), serve, worker)
            before = _provisioned(database_url)
            submit = _measured(lambda: load(submits, duration=duration), serve, worker)
            provisioned = _provisioned(database_url) - before
            paced = (
                _measured(lambda: load(submits, duration=duration, rate=rate), serve, worker)
                if rate
                else None
            )
        return AckFigures(
            help=baseline,
            submit=submit,
            paced=paced,
            rate=rate,
            accepted=submit.result.requests,
            provisioned=provisioned,
        )


@contextmanager
def _worker(run_in: str, env: dict[str, str]) -> Iterator[int | None]:
    """The worker process's pid, with `run_in="workers"`."""
    if run_in != "workers":
        yield None
        return
    port = _free_port()
    command = [
        sys.executable, "-m", "bot", "worker", "--host", "127.0.0.1", "--health-port", str(port),
    ]  # fmt: skip
    with _server(command, env, f"http://127.0.0.1:{port}/readyz") as worker:
        yield worker.pid


def _provisioned(database_url: str) -> int:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return int(
                connection.execute(
                    select(func.count())
                    .select_from(Job)
                    .where(Job.kind == JobKind.PROVISION, Job.status == JobStatus.SUCCEEDED)
                ).scalar_one()
            )
    finally:
        engine.dispose()


@contextmanager
def _feature_bot(database_url: str, tmp: Path, fake: bool) -> Iterator[Services]:
    config = parse_config(bench_config(tmp / "data"), tmp / "platform.yaml", os.environ)
    settings = Settings(database_url=database_url, platform_config=tmp / "platform.yaml")
    build = build_services
    if fake:
        fakes = {e: FakeProvisioner(e) for e in ENGINES}
        features = tuple(
            dataclasses.replace(f, provisioners=lambda _s, _c: fakes)  # type: ignore[type-var]
            if f.name == "new-db"
            else f
            for f in FEATURES
        )
        build = functools.partial(build_services, features=features)
    # No emulated rate limits: the figure is the provisioning, not Slack's pacing of the
    # progress edits (which real Slack would apply the same way to every engine).
    with (
        Emulator(rate_limits=None) as emulator,
        local_bot(settings, config, emulator=emulator, background=False, build=build) as bot,
    ):
        yield bot.services


def _time_engine(services: Services, engine: str) -> EngineFigures:
    feature = services.feature("new-db")
    principal = services.identity.principal("U0BOB")
    provision, drop = [], []
    for _ in range(RUNS):
        name = f"bench-{uuid.uuid4().hex[:10]}"
        form = NewDbForm(
            engine=engine, name=name, tier="dev", team="payments", plan="small", ttl_hours=72
        )
        started = time.perf_counter()
        submitted = feature.service.submit(principal, form, idempotency_key=f"bench:{name}")
        while services.runner.run_once():
            pass
        provision.append((time.perf_counter() - started) * 1000)
        resource = feature.service.resource(submitted.request.resource.id)
        if resource.status != "active":
            raise RuntimeError(f"{engine}: {name} ended {resource.status}")
        started = time.perf_counter()
        feature.drops.request_drop(
            principal, resource.id, typed_name=name, reason=None, idempotency_key=f"drop:{name}"
        )
        while services.runner.run_once():
            pass
        drop.append((time.perf_counter() - started) * 1000)
        if feature.service.resource(resource.id).status != "dropped":
            raise RuntimeError(f"{engine}: {name} was not dropped")
    return EngineFigures(engine, statistics.median(provision), statistics.median(drop))


def measure_provisioning(database_url: str) -> tuple[EngineFigures, list[EngineFigures]]:
    with tempfile.TemporaryDirectory() as tmp:
        with _feature_bot(database_url, Path(tmp), fake=True) as services:
            baseline = _time_engine(services, "postgres")
        with _feature_bot(database_url, Path(tmp), fake=False) as services:
            figures = [_time_engine(services, engine) for engine in ENGINES]
    return baseline, figures
