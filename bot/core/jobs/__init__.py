"""Durable jobs: work that outlives a request, stored as a row and run by the job runner.

A feature enqueues a job with an idempotency key (a Slack retry or a double click finds the
same row), and a `JobHandler` registered for its kind does the work. Handlers must be safe to
run again: a job is retried after an error, and resumed after a crash from the last
`ctx.checkpoint(...)`. Replicas share the table; PostgreSQL hands each job to one worker with
`FOR UPDATE SKIP LOCKED`, and a lease (extended by a heartbeat while the job runs) lets
another worker take over when its holder dies.

Lifecycle of a row:

    queued ──claim──▶ running ──▶ succeeded
      ▲                  │ ├──▶ failed     (PermanentJobError, attempts used up, unknown kind)
      └──── retry ───────┘ └──▶ cancelled  (JobQueue.cancel)

`model` holds the table and values, `queue` enqueues and reads, `lease` claims a row and
holds it, `runner` runs the handlers on worker threads, `notify` wakes runners in other
processes when a job is enqueued (PostgreSQL LISTEN/NOTIFY; polling is the fallback).
"""

from bot.core.jobs.model import (
    FINISHED,
    LAST_ERROR_LIMIT,
    Job,
    JobInfo,
    JobInterrupted,
    JobRef,
    JobStatus,
    PermanentJobError,
)
from bot.core.jobs.notify import JobListener
from bot.core.jobs.queue import JobQueue
from bot.core.jobs.runner import (
    JobContext,
    JobHandler,
    JobRunner,
    default_worker_id,
    exponential_backoff,
)

__all__ = [
    "FINISHED",
    "LAST_ERROR_LIMIT",
    "Job",
    "JobContext",
    "JobHandler",
    "JobInfo",
    "JobInterrupted",
    "JobListener",
    "JobQueue",
    "JobRef",
    "JobRunner",
    "JobStatus",
    "PermanentJobError",
    "default_worker_id",
    "exponential_backoff",
]
