"""Checking the audit log's hash chain (`platform-bot audit verify`).

Records are read in id order, a batch at a time, and each is checked twice: its `prev_hash`
must be the hash of the record before it (otherwise a record was removed, inserted or
reordered there), and its `hash` must match its content (otherwise the record was edited).
The first break is reported; everything after it is suspect anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select

from bot.core.audit import AuditRecord, content_of
from bot.core.audit_chain import GENESIS, chain_hash
from bot.core.db import SessionFactory

_BATCH = 1000


class Break(StrEnum):
    CONTENT_CHANGED = "content changed"
    LINK_BROKEN = "a record before it is missing, was added or was reordered"


@dataclass(frozen=True, slots=True)
class BrokenRecord:
    id: int
    created_at: datetime
    reason: Break

    def describe(self) -> str:
        return f"record {self.id} ({self.created_at.isoformat()}): {self.reason}"


@dataclass(frozen=True, slots=True)
class ChainReport:
    checked: int
    head: str
    """The hash of the last record checked (GENESIS for an empty log): keep it elsewhere."""
    broken: BrokenRecord | None

    @property
    def intact(self) -> bool:
        return self.broken is None


def verify_chain(sessions: SessionFactory) -> ChainReport:
    """Walk the whole log; the report names the first broken record, if any."""
    expected_prev = GENESIS
    checked = 0
    after = None
    with sessions() as session:
        while True:
            query = select(AuditRecord).order_by(AuditRecord.id).limit(_BATCH)
            if after is not None:
                query = query.where(AuditRecord.id > after)
            rows = session.scalars(query).all()
            for row in rows:
                broken = _check(row, expected_prev)
                if broken is not None:
                    return ChainReport(checked=checked, head=expected_prev, broken=broken)
                expected_prev = row.hash
                checked += 1
            if len(rows) < _BATCH:
                return ChainReport(checked=checked, head=expected_prev, broken=None)
            after = rows[-1].id
            session.expunge_all()  # a million records need not stay in memory


def _check(row: AuditRecord, expected_prev: str) -> BrokenRecord | None:
    if row.prev_hash != expected_prev:
        return BrokenRecord(id=row.id, created_at=row.created_at, reason=Break.LINK_BROKEN)
    if chain_hash(row.prev_hash, content_of(row)) != row.hash:
        return BrokenRecord(id=row.id, created_at=row.created_at, reason=Break.CONTENT_CHANGED)
    return None
