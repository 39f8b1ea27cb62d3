"""A job-runner process for the crash test: its handler checkpoints step 1 and then hangs.

    python -m tests.core.job_worker_process DATABASE_URL

The test kills it with SIGKILL while the job is running and checks that another runner
resumes the job from the checkpoint once the one-second lease has expired.
"""

from __future__ import annotations

import sys
import threading

from bot.core.db import make_engine, make_session_factory
from bot.core.jobs import JobContext, JobRunner

KIND = "crash-test"


class StepOneThenHang:
    def run(self, ctx: JobContext) -> None:
        ctx.checkpoint(step=1)
        threading.Event().wait(60)

    def on_failure(self, ctx: JobContext, error_message: str) -> None:
        raise AssertionError("the crash test never fails its job")


def main() -> None:
    engine = make_engine(sys.argv[1])
    runner = JobRunner(
        make_session_factory(engine),
        engine,
        handlers={KIND: StepOneThenHang()},
        workers=1,
        poll_interval=0.05,
        lease_seconds=1,
        worker_id="crash-test-process",
    )
    runner.start()
    # Kept alive until killed; the cap only bounds a test that forgot to kill it.
    threading.Event().wait(60)


if __name__ == "__main__":
    main()
