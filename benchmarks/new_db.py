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
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import yaml
from cryptography.fernet import Fernet
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import func, select

from benchmarks.ack_latency import THREADS, WORKERS, _free_port, _server
from benchmarks.load import LoadResult, slash_command_body
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
RUNS = 10
ENGINES = ("postgres", "mariadb", "redis", "rabbitmq", "nats", "sqlite")
REPO = Path(__file__).resolve().parent.parent
# Users of the emulator's workspace, each submitting for a team they belong to.
SUBMITTERS = [("U0BOB", "payments"), ("U0CAROL", "payments"), ("U0DAVE", "search")]


@dataclass(frozen=True)
class AckFigures:
    help: LoadResult
    submit: LoadResult
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


def _submission(emulator: Emulator, user: str, team: str, n: int) -> str:
    values = {
        BlockId.ENGINE: {ActionId.ENGINE: {"selected_option": {"value": "sqlite"}}},
        BlockId.NAME: {ActionId.NAME: {"value": f"b{uuid.uuid4().hex[:12]}"}},
        BlockId.TIER: {ActionId.TIER: {"selected_option": {"value": "dev"}}},
        BlockId.TEAM: {ActionId.TEAM: {"selected_option": {"value": team}}},
        BlockId.PLAN: {ActionId.PLAN: {"selected_option": {"value": "small"}}},
        BlockId.TTL: {ActionId.TTL: {"value": "72"}},
    }
    workspace = emulator.backend.workspace
    payload = {
        "type": "view_submission",
        "user": {"id": user, "team_id": workspace.team.id},
        "api_app_id": workspace.app.id,
        "team": {"id": workspace.team.id, "domain": workspace.team.domain},
        "trigger_id": f"bench.{n}",
        "view": {
            "id": f"VB{uuid.uuid4().hex[:12].upper()}",
            "type": "modal",
            "callback_id": CallbackId.NEW_DB,
            "private_metadata": json.dumps({"channel": "C0GENERAL"}),
            "state": {
                "values": {str(b): {str(a): v for a, v in f.items()} for b, f in values.items()}
            },
        },
    }
    return urlencode({"payload": json.dumps(payload)})


def _load(url: str, secret: str, body_for: functools.partial[str], duration: float) -> LoadResult:
    """`CLIENTS` closed-loop clients for `duration` seconds; latency of each answered request."""
    parts = urlsplit(url)
    verifier = SignatureVerifier(secret)
    samples: list[float | None] = []
    until = time.monotonic() + duration

    def client(index: int) -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        n = 0
        while time.monotonic() < until:
            n += 1
            body = body_for(index, n)
            ts = str(int(time.time()))
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Slack-Request-Timestamp": ts,
                "X-Slack-Signature": verifier.generate_signature(timestamp=ts, body=body) or "",
            }
            started = time.perf_counter()
            try:
                conn.request("POST", parts.path, body=body, headers=headers)
                response = conn.getresponse()
                answer = response.read()
                ok = response.status == 200 and b"errors" not in answer
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
            samples.append((time.perf_counter() - started) * 1000 if ok else None)
        conn.close()

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies = [s for s in samples if s is not None]
    return LoadResult(
        requests=len(latencies),
        errors=len(samples) - len(latencies),
        seconds=time.monotonic() - started,
        latencies_ms=latencies,
    )


def measure_ack(
    database_url: str, *, duration: float = 10.0, warmup: float = 3.0, run_in: str = "process"
) -> AckFigures:
    """Help, then modal submits, on `serve`; with `run_in="workers"` a `platform-bot worker`
    process beside it runs the provisioning jobs and serve only acks and enqueues."""
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
        users = [u for u, _ in SUBMITTERS]

        def help_body(index: int, n: int) -> str:
            return slash_command_body("help", users[(index + n) % len(users)], n)

        def submit_body(index: int, n: int) -> str:
            user, team = SUBMITTERS[(index + n) % len(SUBMITTERS)]
            return _submission(emulator, user, team, n)

        with _server(command, env, f"http://127.0.0.1:{port}/healthz"), _worker(run_in, env):
            url = f"http://127.0.0.1:{port}/slack/events"
            secret = emulator.signing_secret
            _load(url, secret, functools.partial(help_body), warmup)
            _load(url, secret, functools.partial(submit_body), warmup)
            baseline = _load(url, secret, functools.partial(help_body), duration)
            before = _provisioned(database_url)
            submit = _load(url, secret, functools.partial(submit_body), duration)
            provisioned = _provisioned(database_url) - before
        return AckFigures(
            help=baseline, submit=submit, accepted=submit.requests, provisioned=provisioned
        )


@contextmanager
def _worker(run_in: str, env: dict[str, str]) -> Iterator[None]:
    if run_in != "workers":
        yield
        return
    port = _free_port()
    command = [
        sys.executable, "-m", "bot", "worker", "--host", "127.0.0.1", "--health-port", str(port),
    ]  # fmt: skip
    with _server(command, env, f"http://127.0.0.1:{port}/readyz"):
        yield


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
