"""Logging for every run mode: text for people, JSON lines for log pipelines.

The root handler's formatter scrubs anything that looks like a credential from every
line, whatever logger produced it (our code, Bolt, slack_sdk, SQLAlchemy), so a secret
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


class ScrubbingFormatter(logging.Formatter):
    """Text lines with credentials masked; the record itself is left untouched."""

    def format(self, record: logging.LogRecord) -> str:
        return scrub_text(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line, every string value scrubbed of credentials."""

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
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(
            {k: scrub_text(v) if isinstance(v, str) else v for k, v in entry.items()}, default=str
        )


def configure_logging(level: str, fmt: LogFormat) -> None:
    """Install one scrubbing handler on the root logger (idempotent)."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt is LogFormat.JSON:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            ScrubbingFormatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
        )
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # Chatty libraries stay at WARNING unless the operator asks for DEBUG.
    if level.upper() != "DEBUG":
        for name in ("urllib3", "httpx", "httpcore", "apscheduler", "slack_sdk", "alembic"):
            logging.getLogger(name).setLevel(logging.WARNING)
