"""Logging for every run mode: text for people, JSON lines for log pipelines.

The root handler's formatter scrubs anything that looks like a credential from every
line, whatever logger produced it (our code, Bolt, slack_sdk, SQLAlchemy), so a secret
that slipped into an exception text still never reaches a log line. Scrubbing cuts a line
at `bot.core.redaction.MAX_SCRUB_CHARS`.

Bodies that failed signature verification are never logged: Bolt's line for them carries
the whole body (any size, anyone's text); it is replaced with a short one.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from bot.core.redaction import scrub_text
from bot.runtime.settings import LogFormat

_STANDARD_ATTRS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
# Bolt's RequestVerification middleware logs here, body included, when a signature fails.
_BOLT_SIGNATURE_LOGGER = "slack_bolt.RequestVerification"


class WithoutUnverifiedBody(logging.Filter):
    """Rewrites Bolt's refused-signature line to one that carries nothing of the request."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = "Bolt refused a request: its signature or timestamp does not verify"
        record.args = ()
        return True


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
    # On the logger itself, so every handler (and Bolt's copy of its base logger's
    # filters, which it skips when the logger has its own) sees the short line only.
    bolt_signature = logging.getLogger(_BOLT_SIGNATURE_LOGGER)
    if not any(isinstance(f, WithoutUnverifiedBody) for f in bolt_signature.filters):
        bolt_signature.addFilter(WithoutUnverifiedBody())
    # Chatty libraries stay at WARNING unless the operator asks for DEBUG.
    if level.upper() != "DEBUG":
        for name in ("urllib3", "httpx", "httpcore", "apscheduler", "slack_sdk", "alembic"):
            logging.getLogger(name).setLevel(logging.WARNING)
