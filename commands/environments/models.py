"""Tables of `/platform env`: environments, their resources, and approvals.

Exactly-once rests on constraints: a live environment's `live_name` is unique (two creates
of one name cannot both win; NULLs never clash once it is destroyed), a request's
`request_key` is unique (a double submit or a Slack retry finds the first row), a resource
key is unique within its environment, and an approver counts once per environment.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.db import Base, UtcDateTime


class EnvStatus(StrEnum):
    PENDING = "pending_approval"
    CREATING = "creating"
    READY = "ready"
    DESTROYING = "destroying"
    DESTROYED = "destroyed"
    FAILED = "failed"
    """Creating failed; everything it had made was rolled back."""
    DENIED = "denied"
    EXPIRED = "expired"
    """Its approvals did not come in time; nothing was made."""
    CANCELLED = "cancelled"
    """By its requester, before its creation started; nothing was made."""


LIVE = (EnvStatus.PENDING, EnvStatus.CREATING, EnvStatus.READY, EnvStatus.DESTROYING)
"""An environment in one of these holds its name."""


class ResourceState(StrEnum):
    PLANNED = "planned"
    OWNED = "owned"
    """The name was free and is ours: anything under it is this environment's to remove."""
    READY = "ready"
    REMOVED = "removed"
    KEPT = "kept"
    """Not ready in time and, as its template asks, left for an operator instead of removed."""


class Environment(Base):
    __tablename__ = "env_environment"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(32))
    live_name: Mapped[str | None] = mapped_column(String(32), unique=True)
    request_key: Mapped[str] = mapped_column(String(255), unique=True)
    template: Mapped[str] = mapped_column(String(32))
    driver: Mapped[str] = mapped_column(String(16))
    tier: Mapped[str] = mapped_column(String(32))
    team: Mapped[str] = mapped_column(String(64), index=True)
    requested_by: Mapped[str] = mapped_column(String(32), index=True)
    reason: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(24), index=True)
    clone_of: Mapped[str | None] = mapped_column(String(32))
    """The source environment's id, for a clone."""
    ttl_hours: Mapped[float | None] = mapped_column(Float)
    max_ttl_hours: Mapped[float | None] = mapped_column(Float)
    monthly_cost: Mapped[float | None] = mapped_column(Float)
    currency: Mapped[str] = mapped_column(String(3))
    inputs: Mapped[str] = mapped_column(Text, default="{}")
    """The requester's template inputs, JSON (never secret)."""
    outputs: Mapped[str] = mapped_column(Text, default="{}")
    """Non-secret outputs for the card, JSON."""
    sealed: Mapped[str | None] = mapped_column(Text)
    """Credentials and environment variables, Fernet-sealed, until their one reveal."""
    approvals_needed: Mapped[int] = mapped_column(Integer, default=0)
    approval_channel: Mapped[str | None] = mapped_column(String(64))
    approval_ts: Mapped[str | None] = mapped_column(String(32))
    progress_channel: Mapped[str | None] = mapped_column(String(64))
    progress_ts: Mapped[str | None] = mapped_column(String(32))
    destroy_requested_by: Mapped[str | None] = mapped_column(String(32))
    """Set by a destroy asked for while creating: the create job hands over to it."""
    warned_hours: Mapped[float | None] = mapped_column(Float)
    """The last expiry warning sent (hours before), so each is sent once."""
    failure: Mapped[str | None] = mapped_column(String(500))
    leftovers: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ready_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    destroyed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class EnvResource(Base):
    __tablename__ = "env_resource"
    __table_args__ = (UniqueConstraint("environment_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    environment_id: Mapped[str] = mapped_column(ForeignKey("env_environment.id"), index=True)
    key: Mapped[str] = mapped_column(String(16))
    engine: Mapped[str] = mapped_column(String(16))
    plan: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    password_ciphertext: Mapped[str | None] = mapped_column(Text)
    """The generated password, sealed, while a create or re-issue may have to resume."""
    handle: Mapped[str | None] = mapped_column(Text)
    """An orchestrator's handle on what it is making (JSON), to follow it after a crash."""


class EnvApproval(Base):
    __tablename__ = "env_approval"
    __table_args__ = (UniqueConstraint("environment_id", "approver_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    environment_id: Mapped[str] = mapped_column(ForeignKey("env_environment.id"))
    approver_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
