"""`/platform new-service`: scaffolding the example Python template through the feature,
beside copier alone on the same template, in the same run.

1. Feature: `ServiceRequests.submit` (the modal's submit: answers checked against copier.yml,
   request row, audit, job) and its `service.create` job run in process (copier render,
   catalog-info check, git init/commit, push to a new bare repository, catalog-info.yaml
   written to the catalog directory and the catalog index refreshed) until the repository
   is pushed and `/platform owner NAME` would answer. SQLite app database (the default).
2. Baselines, alternated with it: `copier.run_copy` alone into a temporary directory with
   the same answers (what any scaffolder pays), and copier + the same git steps without the
   bot (`GitRepositories.publish`), so the bot's own share is visible.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml
from copier import run_copy

from benchmarks.new_db import REPO, bench_config
from bot.emulator import Emulator
from bot.runtime.config import parse_config
from bot.runtime.local import local_bot
from bot.runtime.services import Services
from bot.runtime.settings import Settings
from commands.new_service.feature import NewService
from commands.new_service.models import ServiceRequest
from commands.new_service.service.requests import FormValues
from commands.new_service.service.scaffold import GitRepositories

RUNS = 15
TEMPLATE = REPO / "examples" / "templates" / "python-service"
REQUESTER = "U0BOB"  # a member of payments in the emulator's workspace
TYPED = {"description": "A benchmark service", "port": "8080"}


@dataclass(frozen=True)
class Figures:
    copier_s: float
    copier_git_s: float
    feature_s: float
    catalog_entities: int


def _config(tmp: Path) -> str:
    raw = yaml.safe_load(bench_config(tmp / "data"))
    catalog = tmp / "catalog"
    shutil.copytree(REPO / "examples" / "catalog", catalog)
    shutil.rmtree(catalog / "scaffolded", ignore_errors=True)
    raw["catalog"]["files"]["path"] = str(catalog)
    # Paths are relative to the config, which lives in `tmp` here.
    for template in raw["environments"]["templates"].values():
        if "score" in template:
            template["score"] = str(REPO / template["score"])
        if "module" in template:
            template["module"] = str(REPO / template["module"])
    section = raw["services"]
    section["repositories"]["root"] = str(tmp / "repos")
    section["catalog_dir"] = str(catalog / "scaffolded")
    for template in section["templates"].values():
        template["source"] = str(REPO / template["source"])
    return yaml.safe_dump(raw)


@contextmanager
def _bot(tmp: Path) -> Iterator[Services]:
    config = parse_config(_config(tmp), tmp / "platform.yaml", os.environ)
    settings = Settings(
        database_url=f"sqlite:///{tmp}/bench.db", platform_config=tmp / "platform.yaml"
    )
    with (
        Emulator(rate_limits=None) as emulator,
        local_bot(settings, config, emulator=emulator, background=False) as bot,
    ):
        bot.services.feature("lookup").refresh()  # nothing runs in the background here
        yield bot.services


def _through_feature(services: Services) -> float:
    api: NewService = services.feature("new-service")
    principal = services.identity.principal(REQUESTER)
    name = f"b{uuid.uuid4().hex[:10]}"
    values = FormValues(template="python-service", name=name, owner="payments", typed=TYPED)
    started = time.perf_counter()
    found = api.requests.submit(principal, values, request_key=f"bench:{name}", channel=None)
    while services.runner.run_once():
        pass
    elapsed = time.perf_counter() - started
    with services.sessions() as session:
        row = session.get(ServiceRequest, found.id)
        if row is None or row.status != "created":
            raise SystemExit(f"{name} was not created: {row.failure if row else 'no row'}")
    services.feature("lookup").owner(name)  # answers at once, or raises
    return elapsed


def _answers(name: str) -> dict[str, object]:
    return {"name": name, "owner": "payments", "description": TYPED["description"], "port": 8080}


def _copier_alone(tmp: Path) -> float:
    name = f"c{uuid.uuid4().hex[:10]}"
    started = time.perf_counter()
    run_copy(
        str(TEMPLATE), tmp / name, data=_answers(name), defaults=True, unsafe=False, quiet=True
    )
    elapsed = time.perf_counter() - started
    shutil.rmtree(tmp / name)
    return elapsed


def _copier_and_git(tmp: Path) -> float:
    name = f"g{uuid.uuid4().hex[:10]}"
    repositories = GitRepositories(tmp / "direct", "main", "Bench", "bench@localhost")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch) / name
        run_copy(str(TEMPLATE), work, data=_answers(name), defaults=True, unsafe=False, quiet=True)
        repositories.publish(name, work, "benchmark")
    return time.perf_counter() - started


def measure(runs: int = RUNS) -> Figures:
    with tempfile.TemporaryDirectory() as raw_tmp:
        tmp = Path(raw_tmp)
        with _bot(tmp) as services:
            _through_feature(services)  # warm-up: imports, connections, the template's files
            _copier_alone(tmp)
            copier, git, feature = [], [], []
            for _ in range(runs):  # alternated, so that all three see the same machine
                copier.append(_copier_alone(tmp))
                git.append(_copier_and_git(tmp))
                feature.append(_through_feature(services))
            entities = len(services.feature("lookup").model().entities)
    return Figures(
        copier_s=statistics.median(copier),
        copier_git_s=statistics.median(git),
        feature_s=statistics.median(feature),
        catalog_entities=entities,
    )
