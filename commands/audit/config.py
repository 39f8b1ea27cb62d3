"""The `audit:` section of the platform config: how much `/platform audit` shows and exports."""

from __future__ import annotations

from pydantic import Field

from bot.core.config import Section


class AuditSection(Section):
    export_max_records: int = Field(default=10_000, ge=1, le=100_000)
    """At most this many records in one export (the newest); the DM says when it was cut."""
