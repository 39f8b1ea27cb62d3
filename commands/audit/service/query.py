"""Reading the audit log: a page of matching records (newest first), or an export.

Pages are keyset-paged on the record id (the chain's order), so a page deep in a million
records costs what the first does: `older` pages read ids below the page's last, `newer`
ones ids above its first. Each filter has an index ending in id (actor, action, outcome; see
core migration 0012_audit_indexes), so a page is one index scan that stops after a page;
`since:` has one on created_at and `target:` a trigram index on PostgreSQL. An action without
wildcards is compared with `=`, which every index serves (a LIKE without wildcards only some).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select

from bot.core.audit import AuditRecord
from bot.core.db import SessionFactory
from bot.core.identity import IdentityUser
from commands.audit.service.filters import AuditFilter, like_pattern

PAGE_SIZE = 10
_WILDCARDS = frozenset("*?")


@dataclass(frozen=True, slots=True)
class Page:
    records: list[AuditRecord]
    has_newer: bool
    has_older: bool


class AuditReader:
    def __init__(self, *, sessions: SessionFactory, clock: Callable[[], datetime]) -> None:
        self._sessions = sessions
        self._clock = clock

    def now(self) -> datetime:
        return self._clock()

    def user_named(self, name: str) -> str | None:
        """The user id of the one person the bot has seen with this Slack name, if any."""
        query = (
            select(IdentityUser.user_id)
            .where(func.lower(IdentityUser.name) == name.lower())
            .limit(2)
        )
        with self._sessions() as session:
            found = session.scalars(query).all()
        return found[0] if len(found) == 1 else None

    def page(
        self, where: AuditFilter, *, older_than: int | None = None, newer_than: int | None = None
    ) -> Page:
        """Up to PAGE_SIZE records: the newest, or those just older / newer than an id."""
        query = _matching(where)
        if newer_than is not None:
            query = query.where(AuditRecord.id > newer_than).order_by(AuditRecord.id.asc())
        else:
            if older_than is not None:
                query = query.where(AuditRecord.id < older_than)
            query = query.order_by(AuditRecord.id.desc())
        with self._sessions() as session:
            rows = list(session.scalars(query.limit(PAGE_SIZE + 1)).all())
        more = len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE]
        if newer_than is not None:
            rows.reverse()
            return Page(records=rows, has_newer=more, has_older=True)
        return Page(records=rows, has_newer=older_than is not None, has_older=more)

    def export(self, where: AuditFilter, *, limit: int) -> tuple[list[dict[str, Any]], bool]:
        """The newest `limit` matching records as JSON documents, and whether more matched."""
        query = _matching(where).order_by(AuditRecord.id.desc()).limit(limit + 1)
        with self._sessions() as session:
            rows = session.scalars(query).all()
            documents = [_document(row) for row in rows[:limit]]
        return documents, len(rows) > limit


def _matching(where: AuditFilter) -> Select[AuditRecord]:
    conditions: list[ColumnElement[bool]] = []
    if where.actors is not None:
        conditions.append(AuditRecord.actor.in_(where.actors))
    if where.action is not None and not _WILDCARDS & set(where.action):
        conditions.append(AuditRecord.action == where.action)
    elif where.action is not None:
        conditions.append(AuditRecord.action.like(like_pattern(where.action), escape="\\"))
    if where.target is not None:
        pattern = like_pattern(where.target, contains=True)
        conditions.append(AuditRecord.target.like(pattern, escape="\\"))
    if where.outcome is not None:
        conditions.append(AuditRecord.outcome == where.outcome)
    if where.since_at is not None:
        conditions.append(AuditRecord.created_at >= where.since_at)
    return select(AuditRecord).where(*conditions)


def _document(row: AuditRecord) -> dict[str, Any]:
    return {
        "id": row.id,
        "created_at": row.created_at.isoformat(),
        "actor": row.actor,
        "action": row.action,
        "outcome": row.outcome,
        "target": row.target,
        "detail": row.detail,
        "inputs": row.inputs,
        "idempotency_key": row.idempotency_key,
        "prev_hash": row.prev_hash,
        "hash": row.hash,
    }
