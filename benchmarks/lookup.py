"""Ownership / on-call lookups against a generated 50,000-entity catalog.

Measures, each beside a baseline from the same run:
- index refresh time (parse the catalog-info.yaml files, write the index, build the read
  model) for 50,000 entities, beside the 17-entity example catalog;
- an incremental refresh after 1 % of the entities changed (their catalog files edited),
  end to end (find the changed files, parse them, write them, update the read model),
  beside a full refresh of the same catalog in the same run (budget: 1 s);
- in-process lookup latency (owner, on-call, service card, search) on that index, beside
  the same lookups on the example catalog (budget: p99 ≤ 5 ms);
- ack latency of `/platform service NAME` at 20 concurrent clients under gunicorn, beside
  `/platform help` on the same server in the same run;
- RSS of `platform-bot serve` with the 50,000-entity index loaded, beside serve with the
  example catalog (budget: 150 MB).
"""

from __future__ import annotations

import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import yaml
from cryptography.fernet import Fernet
from sqlalchemy import Engine

from benchmarks.ack_latency import THREADS, WORKERS, _free_port
from benchmarks.load import LoadResult, run_load
from bot.core.audit import AuditLog
from bot.core.db import SessionFactory, make_engine, make_session_factory
from bot.core.identity import IdentityService
from bot.emulator import Emulator, SlackSigner
from bot.runtime.config import PlatformConfig, load_config
from bot.runtime.schema import upgrade
from commands.lookup.service.catalog_index import CatalogIndex
from commands.lookup.service.lookups import LookupService
from commands.lookup.service.oncall import OnCallDirectory
from integrations.catalog_files import CatalogFiles
from integrations.fakes import FakeUserDirectory
from integrations.protocols import DirectoryUser
from integrations.rotation import RotationProvider

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_CATALOG = REPO / "examples" / "catalog"
EXAMPLE_ROTATIONS = REPO / "examples" / "oncall" / "rotations.yaml"
CLIENTS = 20
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
ENTITIES = 50_000
WORDS = [
    "payments",
    "orders",
    "search",
    "billing",
    "ledger",
    "checkout",
    "catalog",
    "inventory",
    "pricing",
    "shipping",
    "accounts",
    "identity",
    "auth",
    "fraud",
    "risk",
    "notifications",
    "email",
    "sms",
    "push",
    "analytics",
    "reporting",
    "metrics",
    "logging",
    "tracing",
    "gateway",
    "edge",
    "cache",
    "queue",
    "stream",
    "events",
    "audit",
    "compliance",
    "tax",
    "invoices",
    "refunds",
    "wallet",
    "loyalty",
    "reviews",
    "ratings",
    "recommendations",
    "ads",
    "media",
    "images",
    "video",
]


def generate_catalog(root: Path, *, entities: int = ENTITIES, seed: int = 7) -> list[str]:
    """Write a realistic catalog of `entities` entities under `root`; returns component names.

    1 group per 100 entities, 10 users per group, 4 systems per group; the rest are
    components (90 %) and APIs, 200 documents per file, plus a rotation file per group.
    """
    rng = random.Random(seed)
    groups = max(1, entities // 100)
    users = groups * 10
    systems = groups * 4
    rest = entities - groups - users - systems
    docs: list[dict[str, object]] = []
    for g in range(groups):
        docs.append(
            _doc(
                "Group",
                f"team-{g:04d}",
                {"type": "team", "children": []},
                title=f"Team {rng.choice(WORDS).title()} {g}",
                annotations={"slack.com/bot-notify": f"#team-{g:04d}"},
            )
        )
    for u in range(users):
        docs.append(
            _doc(
                "User",
                f"user-{u:05d}",
                {
                    "memberOf": [f"team-{u % groups:04d}"],
                    "profile": {"displayName": f"User {u}", "email": f"user{u}@example.com"},
                },
            )
        )
    for s in range(systems):
        docs.append(
            _doc(
                "System",
                f"system-{s:05d}",
                {"owner": f"team-{s % groups:04d}"},
                description=f"The {rng.choice(WORDS)} system",
            )
        )
    names = []
    for c in range(rest):
        kind = "API" if c % 10 == 9 else "Component"
        words = rng.sample(WORDS, 3)
        name = f"{words[0]}-{words[1]}-{c:05d}"
        spec: dict[str, object] = {
            "type": "openapi" if kind == "API" else "service",
            "lifecycle": rng.choice(["production", "experimental"]),
            "owner": f"team-{rng.randrange(groups):04d}",
            "system": f"system-{rng.randrange(systems):05d}",
        }
        if kind == "API":
            spec["definition"] = "openapi: 3.0.0"
        else:
            names.append(name)
        docs.append(
            _doc(
                kind,
                name,
                spec,
                title=" ".join(w.title() for w in words),
                description=f"Handles {words[0]} {words[1]} for {words[2]} at scale.",
                tags=words[:2],
                annotations={"github.com/project-slug": f"acme/{name}"},
                links=[
                    {
                        "url": f"https://runbooks.example/{name}",
                        "title": "Runbook",
                        "type": "runbook",
                    },
                    {
                        "url": f"https://grafana.example/d/{name}",
                        "title": "Dashboard",
                        "type": "dashboard",
                    },
                ],
            )
        )
    catalog = root / "catalog"
    catalog.mkdir(parents=True)
    for start in range(0, len(docs), 200):
        path = catalog / f"part-{start // 200:04d}" / "catalog-info.yaml"
        path.parent.mkdir()
        path.write_text(yaml.dump_all(docs[start : start + 200], Dumper=_DUMPER, sort_keys=False))
    rotations = {
        f"team-{g:04d}": {
            "participants": [f"user{g + i * groups}@example.com" for i in range(3)],
            "rotation_length": "1w",
            "handoff_time": "09:00",
            "time_zone": "Europe/Berlin",
            "start": "2026-11-02",
        }
        for g in range(groups)
    }
    (root / "rotations.yaml").write_text(yaml.safe_dump({"rotations": rotations}))
    return names


def _doc(kind: str, name: str, spec: dict[str, object], **meta: object) -> dict[str, object]:
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": kind,
        "metadata": {"name": name, **meta},
        "spec": spec,
    }


@dataclass(frozen=True)
class Latency:
    p50: float
    p99: float
    count: int


def _measure(call: Callable[[str], object], names: list[str], count: int) -> Latency:
    rng = random.Random(1)
    samples = []
    for _ in range(count):
        name = rng.choice(names)
        started = time.perf_counter()
        call(name)
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return Latency(statistics.median(samples), samples[int(0.99 * len(samples))], count)


def change_entities(catalog: Path, share: float = 0.01) -> int:
    """Edit the descriptions of `share` of the catalog's components, in as few files as a
    team's change would touch (the files after the teams, people and systems); how many."""
    files = sorted(catalog.glob("*/catalog-info.yaml"))
    total = sum(1 for path in files for _ in yaml.load_all(path.read_text(), Loader=_LOADER))
    wanted = int(total * share)
    changed = 0
    for path in reversed(files):
        docs = list(yaml.load_all(path.read_text(), Loader=_LOADER))
        for doc in docs:
            if changed < wanted and doc["kind"] == "Component":
                doc["metadata"]["description"] = f"Changed: {doc['metadata']['description']}"
                changed += 1
        path.write_text(yaml.dump_all(docs, Dumper=_DUMPER, sort_keys=False))
        if changed == wanted:
            return changed
    return changed


@dataclass(frozen=True)
class Refreshes:
    """End to end, as the refreshing process runs them: read, write, new read model."""

    full_seconds: float
    incremental_seconds: float
    changed: int
    incremental: bool
    replica_seconds: float
    """Another process's reload of the incrementally refreshed index."""


@dataclass(frozen=True)
class InProcess:
    entities: int
    fetch_seconds: float
    write_seconds: float
    load_seconds: float
    lookups: dict[str, Latency]
    refreshes: Refreshes


def _users(count: int) -> FakeUserDirectory:
    return FakeUserDirectory(
        DirectoryUser(f"U{n:07d}", f"user{n}", f"User {n}", email=f"user{n}@example.com")
        for n in range(count)
    )


def measure_in_process(
    catalog: Path, rotations: Path, names: list[str], database_url: str, *, count: int = 5000
) -> InProcess:
    engine = make_engine(database_url)
    upgrade(engine)
    sessions = make_session_factory(engine)
    provider = CatalogFiles(catalog)
    started = time.perf_counter()
    snapshot = provider.fetch_all()
    fetch_seconds = time.perf_counter() - started

    class _Snapshot:
        name = "files"

        def fetch_all(self) -> object:
            return snapshot

    index = CatalogIndex(sessions, _Snapshot())  # type: ignore[arg-type]
    started = time.perf_counter()
    index.refresh()
    write_seconds = time.perf_counter() - started
    config = PlatformConfig()
    directory = _users(len(snapshot.entities))
    service = LookupService(
        index=index,
        oncall=OnCallDirectory(RotationProvider(rotations), cache_seconds=60, local=True),
        identity=IdentityService(directory, config, sessions),
        audit=AuditLog(sessions),
        team_channels={},
        ui_url="https://backstage.example/catalog/{namespace}/{kind}/{name}",
        refresh_interval=timedelta(minutes=15),
        reload_check_seconds=60,
    )
    started = time.perf_counter()
    service.reload()
    load_seconds = time.perf_counter() - started
    # Warm the email → Slack id cache, as a running bot's would be after its first answers.
    for name in names:
        service.service_card(name)
    queries = [n.split("-")[0] + " " + n.split("-")[1][:4] for n in names]
    lookups = {
        "owner": _measure(service.owner, names, count),
        "oncall": _measure(service.oncall, names, count),
        "service card": _measure(service.service_card, names, count),
        "catalog search": _measure(service.search, queries, count // 5),
    }
    del service
    refreshes = measure_refreshes(catalog, sessions)
    engine.dispose()
    return InProcess(
        len(snapshot.entities), fetch_seconds, write_seconds, load_seconds, lookups, refreshes
    )


def measure_refreshes(catalog: Path, sessions: SessionFactory) -> Refreshes:
    """A full refresh, then one after 1 % of the entities changed (a copy of the catalog
    is edited, so the other measurements keep theirs)."""
    with tempfile.TemporaryDirectory(prefix="lookup-changed-") as tmp:
        copy = Path(tmp) / "catalog"
        shutil.copytree(catalog, copy)
        index = CatalogIndex(sessions, CatalogFiles(copy))
        model = index.load()
        started = time.perf_counter()
        outcome = index.refresh(full=True)
        model = index.load_changes(model, outcome)
        full_seconds = time.perf_counter() - started
        changed = change_entities(copy)
        started = time.perf_counter()
        outcome = index.refresh()
        newer = index.load_changes(model, outcome)
        incremental_seconds = time.perf_counter() - started
        started = time.perf_counter()
        index.load_newer(model)
        replica_seconds = time.perf_counter() - started
        del newer
    return Refreshes(full_seconds, incremental_seconds, changed, not outcome.full, replica_seconds)


def _migrate(url: str) -> Engine:
    engine = make_engine(url)
    upgrade(engine)
    return engine


def _config(root: Path, catalog: Path, rotations: Path) -> Path:
    data = yaml.safe_load((REPO / "platform.example.yaml").read_text())
    data["catalog"]["files"]["path"] = str(catalog)
    data["oncall"]["rotation"]["path"] = str(rotations)
    # The example config whole, as a deployment runs it; its other paths (templates, docs,
    # runbooks) are relative to it.
    examples = root / "examples"
    if not examples.exists():
        examples.symlink_to(REPO / "examples", target_is_directory=True)
    path = root / "platform.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _rss_mb(pid: int) -> float:
    """RSS of gunicorn's workers (children of `pid`), the processes that hold the index."""
    total = 0
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    for child in children:
        for line in Path(f"/proc/{child}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total = max(total, int(line.split()[1]))
    return total / 1024


@dataclass(frozen=True)
class Served:
    help: LoadResult
    service: LoadResult
    rss_mb: float


@contextmanager
def _serve(env: dict[str, str], port: int) -> Iterator[int]:
    command = [
        sys.executable,
        "-m",
        "bot",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(WORKERS),
        "--threads",
        str(THREADS),
    ]
    process = subprocess.Popen(command, env=env)
    try:
        from benchmarks.ack_latency import _wait_http

        _wait_http(f"http://127.0.0.1:{port}/healthz", process)
        yield process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


def measure_served(
    emulator: Emulator, database_url: str, config: Path, name: str, *, duration: float, load: bool
) -> Served:
    env = {
        **os.environ,
        "SLACK_API_URL": emulator.api_url,
        "SLACK_BOT_TOKEN": emulator.bot_token,
        "SLACK_SIGNING_SECRET": emulator.signing_secret,
        "DATABASE_URL": database_url,
        "PLATFORM_CONFIG": str(config),
        "LOG_LEVEL": "WARNING",
        "PLATFORM_BOT_SECRET_KEY": Fernet.generate_key().decode(),
    }
    port = _free_port()
    url = f"http://127.0.0.1:{port}/slack/events"
    users = ["U0ALICE", "U0BOB", "U0CAROL", "U0DAVE"]
    with _serve(env, port) as pid:
        signer = SlackSigner(emulator, url, emulator.signing_secret)
        deadline = time.monotonic() + 300
        # Both workers load the index in the background; wait until lookups answer.
        ready = 0
        while ready < 8 and time.monotonic() < deadline:
            answer = signer.slash_command("U0BOB", f"service {name}")
            ready = ready + 1 if "On call now" in str(answer.json) else 0
            time.sleep(0.2)
        signer.close()
        rss = _rss_mb(pid)
        if not load:
            empty = LoadResult(0, 0, 0.0, [])
            return Served(empty, empty, rss)
        run_load(
            url, emulator.signing_secret, text="help", users=users, clients=CLIENTS, duration=2
        )
        help_result = run_load(
            url,
            emulator.signing_secret,
            text="help",
            users=users,
            clients=CLIENTS,
            duration=duration,
        )
        service_result = run_load(
            url,
            emulator.signing_secret,
            text=f"service {name}",
            users=users,
            clients=CLIENTS,
            duration=duration,
        )
        return Served(help_result, service_result, rss)


@dataclass(frozen=True)
class LookupBenchmark:
    example: InProcess
    large: InProcess
    served_example: Served
    served_large: Served


def run(database: Callable[[], AbstractContextManager[str]], *, duration: float) -> LookupBenchmark:
    """`database()` gives a scratch database URL (PostgreSQL in `make bench`)."""
    with tempfile.TemporaryDirectory(prefix="lookup-bench-") as tmp:
        root = Path(tmp)
        names = generate_catalog(root)
        with database() as url:
            example = measure_in_process(
                EXAMPLE_CATALOG,
                EXAMPLE_ROTATIONS,
                ["payments-api", "orders-api", "search-service", "platform-bot"],
                url,
            )
        with database() as url:
            large = measure_in_process(root / "catalog", root / "rotations.yaml", names[:2000], url)
        with Emulator(rate_limits=None) as emulator:
            with database() as url:
                _migrate(url)
                config = _config(root, EXAMPLE_CATALOG, EXAMPLE_ROTATIONS)
                served_example = measure_served(
                    emulator, url, config, "payments-api", duration=duration, load=False
                )
            with database() as url:
                # Fill the index first, as an earlier scheduled refresh would have.
                engine = _migrate(url)
                CatalogIndex(make_session_factory(engine), CatalogFiles(root / "catalog")).refresh()
                engine.dispose()
                config = _config(root, root / "catalog", root / "rotations.yaml")
                served_large = measure_served(
                    emulator, url, config, names[123], duration=duration, load=True
                )
        load_config(config, environ={})  # the generated config must stay valid
        return LookupBenchmark(example, large, served_example, served_large)
