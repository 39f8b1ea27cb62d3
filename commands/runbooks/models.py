"""Tables of `/platform runbook`: runs and the approvals of their risky steps.

A run's `request_key` is unique (a double submit or a Slack retry finds the first run), an
approver counts once per step of a run, and a run leaves a waiting status through a
conditional UPDATE, so one click continues it once.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.db import Base, JsonDocument, UtcDateTime


class RunStatus(StrEnum):
    RUNNING = "running"
    CONFIRM = "waiting_confirmation"
    APPROVAL = "waiting_approval"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    STOPPED = "stopped"
    """The runner pressed Stop, an approver denied a step, or the policy refused one."""


WAITING = (RunStatus.CONFIRM, RunStatus.APPROVAL)


class RunbookRun(Base):
    __tablename__ = "runbook_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_key: Mapped[str] = mapped_column(String(255), unique=True)
    runbook: Mapped[str] = mapped_column(String(40), index=True)
    requested_by: Mapped[str] = mapped_column(String(32), index=True)
    params: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    status: Mapped[str] = mapped_column(String(24))
    next_step: Mapped[int] = mapped_column(Integer)
    """The first step not yet done; a waiting run waits before this step."""
    segment: Mapped[int] = mapped_column(Integer)
    """How many times the run was continued: each continuation is its own job."""
    approvals_needed: Mapped[int] = mapped_column(Integer)
    thread_channel: Mapped[str | None] = mapped_column(String(64))
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    failure: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class RunbookApproval(Base):
    __tablename__ = "runbook_approval"
    __table_args__ = (UniqueConstraint("run_id", "step", "approver_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runbook_run.id", ondelete="CASCADE"))
    step: Mapped[int] = mapped_column(Integer)
    approver_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
