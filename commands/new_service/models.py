"""The table of `/platform new-service`: one row per request, the record of what was made.

A request's `request_key` is unique (a double submit or a Slack retry finds the first row);
`live_name` holds the name while the request is being made or was made, so two people
asking for one name at once cannot both win (NULL once it failed: the name is free again).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.db import Base, UtcDateTime


class RequestStatus(StrEnum):
    CREATING = "creating"
    CREATED = "created"
    FAILED = "failed"
    """Nothing of it is left: a repository made before the failure was deleted."""


class ServiceRequest(Base):
    __tablename__ = "svc_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_key: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str] = mapped_column(String(40))
    live_name: Mapped[str | None] = mapped_column(String(40), unique=True)
    template: Mapped[str] = mapped_column(String(32))
    owner: Mapped[str] = mapped_column(String(64))
    requested_by: Mapped[str] = mapped_column(String(32), index=True)
    channel: Mapped[str | None] = mapped_column(String(32))
    answers: Mapped[str] = mapped_column(Text)
    """JSON of the template's answers (secret questions left out)."""
    status: Mapped[str] = mapped_column(String(16), index=True)
    repository: Mapped[str | None] = mapped_column(String(500))
    failure: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
