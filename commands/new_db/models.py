"""Tables of `/platform new-db`: requests, resources, approvals and one-time credentials.

Exactly-once rests on constraints, not on checks: a request's idempotency key is unique (a
double submit or a Slack retry finds the first row), an active resource's `active_key`
(engine + name) is unique (two requests for one name cannot both win), and an approver
counts once per request (`uq_db_approval_request_id`).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.db import Base, UtcDateTime


class RequestStatus(StrEnum):
    PENDING = "pending_approval"
    APPROVED = "approved"
    DENIED = "denied"
    EXPIRED = "expired"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    """By its requester, before anything was done."""


OPEN_REQUEST = (RequestStatus.PENDING, RequestStatus.APPROVED)


class ResourceStatus(StrEnum):
    AWAITING_APPROVAL = "awaiting_approval"
    PROVISIONING = "provisioning"
    ACTIVE = "active"
    DROPPING = "dropping"
    DROPPED = "dropped"
    FAILED = "failed"
    CANCELLED = "cancelled"


# A resource in one of these holds its name (its `active_key` is set).
HOLDS_NAME = (
    ResourceStatus.AWAITING_APPROVAL,
    ResourceStatus.PROVISIONING,
    ResourceStatus.ACTIVE,
    ResourceStatus.DROPPING,
)


class Decision(StrEnum):
    APPROVE = "approve"
    DENY = "deny"


class DbResource(Base):
    __tablename__ = "db_resource"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    engine: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(64))
    tier: Mapped[str] = mapped_column(String(32))
    team: Mapped[str] = mapped_column(String(64), index=True)
    owner_id: Mapped[str] = mapped_column(String(32), index=True)
    plan: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(24))
    # "engine:name" while the resource holds its name, NULL afterwards (NULLs never clash).
    active_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    # The generated password, Fernet-encrypted, only while provisioning needs it to resume.
    password_ciphertext: Mapped[str | None] = mapped_column(Text)
    vault_path: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ready_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    warned_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    dropped_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class DbRequest(Base):
    __tablename__ = "db_request"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    action: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(24), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    resource_id: Mapped[str] = mapped_column(ForeignKey("db_resource.id"), index=True)
    requester_id: Mapped[str] = mapped_column(String(32))
    tier: Mapped[str] = mapped_column(String(32))
    team: Mapped[str] = mapped_column(String(64))
    ttl_hours: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[str | None] = mapped_column(String(500))
    approvals_needed: Mapped[int] = mapped_column(Integer)
    approval_channel: Mapped[str | None] = mapped_column(String(64))
    approval_ts: Mapped[str | None] = mapped_column(String(32))
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The requester's DM message whose thread carries the progress updates.
    progress_channel: Mapped[str | None] = mapped_column(String(64))
    progress_ts: Mapped[str | None] = mapped_column(String(32))
    outcome_detail: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class DbApproval(Base):
    __tablename__ = "db_approval"
    __table_args__ = (UniqueConstraint("request_id", "approver_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("db_request.id"))
    approver_id: Mapped[str] = mapped_column(String(32))
    decision: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class DbCredentialDrop(Base):
    """Credentials waiting for their one reveal; the row is deleted when revealed."""

    __tablename__ = "db_credential_drop"

    resource_id: Mapped[str] = mapped_column(ForeignKey("db_resource.id"), primary_key=True)
    owner_id: Mapped[str] = mapped_column(String(32))
    ciphertext: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The owner's DM with the Reveal button, once the hand-off job has posted it; edited
    # after the reveal so that the used button goes away.
    offer_channel: Mapped[str | None] = mapped_column(String(64))
    offer_ts: Mapped[str | None] = mapped_column(String(32))
