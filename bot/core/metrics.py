"""Prometheus metrics served at /metrics.

Counters and histograms live in the default registry; with several gunicorn workers the
process sets PROMETHEUS_MULTIPROC_DIR before the workers start and /metrics aggregates
their files (prometheus_client's multiprocess mode).
"""

from __future__ import annotations

import os
from collections.abc import Callable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

# Label values come from fixed sets only (registered subcommand names, enums), never from
# what a request carries: each distinct value is a new series for as long as the process runs.
COMMANDS = Counter(
    "platform_bot_commands_total",
    "/platform subcommands handled, by subcommand (registered names, help, unknown) and outcome.",
    ["subcommand", "outcome"],
)
ACK_SECONDS = Histogram(
    "platform_bot_ack_seconds",
    "Time from receiving a Slack request to sending its HTTP response.",
    ["kind"],
    buckets=(0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0),
)
REFUSED = Counter(
    "platform_bot_http_refused_total",
    "Requests to /slack/events refused before Bolt saw them, by reason.",
    ["reason"],
)
USAGE_DROPPED = Counter(
    "platform_bot_usage_dropped_total",
    "Adoption-figure rows dropped: the queue was full or the database refused the row.",
    ["reason"],
)
JOBS = Counter(
    "platform_bot_jobs_total", "Durable jobs finished, by kind and outcome.", ["kind", "outcome"]
)


class JobStatusCollector(Collector):
    """Current job counts by status, read from the app database at scrape time."""

    def __init__(self, counts: Callable[[], dict[str, int]]) -> None:
        self._counts = counts

    def collect(self) -> list[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "platform_bot_jobs", "Durable jobs in the app database, by status.", labels=["status"]
        )
        for status, count in sorted(self._counts().items()):
            family.add_metric([status], count)
        return [family]


class SchedulerLeaderCollector(Collector):
    """1 while this process is the scheduler leader, else 0; summed over workers it should be
    exactly 1 (an alert on 0 or 2 catches a failover that did not happen or a split brain)."""

    def __init__(self, leader: Callable[[], bool]) -> None:
        self._leader = leader

    def collect(self) -> list[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "platform_bot_scheduler_leader",
            "1 while this process runs the scheduled tasks (holds the leader lock), else 0.",
        )
        family.add_metric([], 1 if self._leader() else 0)
        return [family]


def record_job_outcome(kind: str, outcome: str) -> None:
    JOBS.labels(kind=kind, outcome=outcome).inc()


def render(
    job_counts: Callable[[], dict[str, int]] | None,
    scheduler_leader: Callable[[], bool] | None = None,
) -> tuple[bytes, str]:
    """The exposition text for a scrape, aggregated across workers when there are several;
    with `scheduler_leader`, whether this process runs the scheduler now (1 or 0)."""
    registry = CollectorRegistry()
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        from prometheus_client import REGISTRY

        registry = REGISTRY
    output = generate_latest(registry)
    if job_counts is not None:
        extra = CollectorRegistry()
        extra.register(JobStatusCollector(job_counts))
        output += generate_latest(extra)
    if scheduler_leader is not None:
        extra = CollectorRegistry()
        extra.register(SchedulerLeaderCollector(scheduler_leader))
        output += generate_latest(extra)
    return output, CONTENT_TYPE_LATEST
