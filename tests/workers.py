"""Job runner processes for the kill -9 tests: one is started, and killed inside a step.

The worker module (run as `python -m …`) builds a feature's job handlers on the test's
database with a fake provisioner that blocks in a step and writes a file once it is there;
`run_until_killed` runs them; the test calls `kill_once_reached` and then lets its own
runner take the job over once the one-second lease has run out.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from sqlalchemy import Engine

from bot.core.db import SessionFactory
from bot.core.jobs import JobHandler, JobRunner
from tests.conftest import REPO_ROOT

LEASE_SECONDS = 1


def run_until_killed(
    sessions: SessionFactory, engine: Engine, handlers: Mapping[str, JobHandler]
) -> None:
    """In the worker process: run `handlers`' jobs, with a one-second lease, until killed."""
    runner = JobRunner(
        sessions,
        engine,
        handlers=handlers,
        workers=1,
        poll_interval=0.05,
        lease_seconds=LEASE_SECONDS,
        worker_id="kill-test-process",
    )
    runner.start()
    threading.Event().wait(60)


def kill_once_reached(module: str, args: Sequence[str], reached: Path) -> None:
    """Run `python -m module args…` and SIGKILL it once the file `reached` appears."""
    worker = subprocess.Popen([sys.executable, "-m", module, *args], cwd=REPO_ROOT)
    try:
        deadline = time.monotonic() + 60
        while not reached.exists():
            assert worker.poll() is None, "the worker process died on its own"
            assert time.monotonic() < deadline, f"the worker never reached {reached.stem}"
            time.sleep(0.05)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
