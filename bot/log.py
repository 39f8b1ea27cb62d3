"""Logging for every run mode: text for people, JSON lines for log pipelines.

A filter on the root handler scrubs anything that looks like a credential from every
record, whatever logger produced it (our code, Bolt, slack_sdk, SQLAlchemy), so a secret
that slipped into an exception text still never reaches a log line.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from bot.redaction import scrub_text
from bot.settings import LogFormat

_STANDARD_ATTRS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class ScrubSecrets(logging.Filter):
    """Replace the record's message (and traceback text) with a scrubbed rendering."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = scrub_text(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub_text(record.exc_text)
        # The traceback is rendered from exc_text from now on; the live exception is dropped
        # so no formatter re-renders unscrubbed text from it.
        record.exc_info = None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(
            {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRS and k[0] != "_"}
        )
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, default=str)


def configure_logging(level: str, fmt: LogFormat) -> None:
    """Install one scrubbing handler on the root logger (idempotent)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(ScrubSecrets())
    if fmt is LogFormat.JSON:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # Chatty libraries stay at WARNING unless the operator asks for DEBUG.
    if level.upper() != "DEBUG":
        for name in ("urllib3", "httpx", "httpcore", "apscheduler", "slack_sdk"):
            logging.getLogger(name).setLevel(logging.WARNING)
