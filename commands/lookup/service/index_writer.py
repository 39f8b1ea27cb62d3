"""Writing one refresh into the index tables: all of it, or only the units that changed.

Each entity row remembers its unit (a catalog file, or one Backstage entity) and each
relation the entity that states it, so an incremental write deletes exactly what the changed
and removed units wrote before and inserts what they hold now. An entity's rows depend on
that entity alone (references resolve in its own namespace), so the result is the index a
full write of the same catalog gives. The one thing that depends on several units is which
copy of a repeated entity wins: while a catalog repeats an entity, or when a changed unit
brings one that another unit already holds, the write is full (`NeedsFullWrite`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from commands.lookup.models import (
    UNIT_LENGTH,
    CatalogEntityRow,
    CatalogRelationRow,
    CatalogUnitRow,
)
from commands.lookup.service.index_rows import SOURCE_LENGTH, IndexBatch, prepare, row
from integrations.catalog_units import DUPLICATE, CatalogUnit, KnownUnit
from integrations.protocols import CatalogProblem

PROBLEMS_KEPT = 200
REASON_LENGTH = 1_000
# Rows per statement when deleting or checking by a list of keys: well under every
# backend's limit on bound parameters.
CHUNK = 500


class NeedsFullWrite(Exception):
    """The changed units cannot be written alone (see the module docstring)."""


@dataclass(frozen=True)
class Written:
    full: bool
    entity_count: int
    problems: list[CatalogProblem]
    problem_count: int
    changed_refs: frozenset[str]
    """Entities written (new or changed); with `removed_refs`, all an incremental write did."""
    removed_refs: frozenset[str]


def unit_key(key: str) -> str:
    """The key as stored: one too long for its column stands as its digest."""
    if len(key) <= UNIT_LENGTH:
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def known_units(session: Session) -> dict[str, KnownUnit]:
    rows = session.execute(select(CatalogUnitRow.key, CatalogUnitRow.digest, CatalogUnitRow.notes))
    return {key: KnownUnit(digest, notes or {}) for key, digest, notes in rows}


def can_be_incremental(known: dict[str, KnownUnit]) -> bool:
    return bool(known) and not any(unit.notes.get(DUPLICATE) for unit in known.values())


def write_units(
    session: Session,
    units: Sequence[CatalogUnit],
    known: dict[str, KnownUnit] | None,
    now: datetime,
) -> Written:
    """Write `units` over the index: all of them when `known` is None, else only those
    changed since `known`, and away those no longer there. NeedsFullWrite when the
    changed units cannot be written alone; the caller's transaction then rolls back."""
    changed = [unit for unit in units if unit.changed]
    removed_refs: set[str] = set()
    if known is None:
        session.execute(delete(CatalogRelationRow))
        session.execute(delete(CatalogEntityRow))
        session.execute(delete(CatalogUnitRow))
    else:
        if any(unit.notes.get(DUPLICATE) for unit in changed):
            raise NeedsFullWrite
        current = {unit_key(unit.key) for unit in units}
        stale = {key for key in known if key not in current}
        stale.update(unit_key(unit.key) for unit in changed)
        removed_refs = _remove(session, stale)
    seen: set[str] = set()
    batches = [(unit, prepare(unit.entities, seen)) for unit in changed]
    if known is not None:
        _check_alone(session, batches, seen)
    _insert(session, batches, now)
    changed_refs = frozenset(seen)
    problems, problem_count = _problems(session)
    return Written(
        full=known is None,
        entity_count=session.scalar(select(func.count()).select_from(CatalogEntityRow)) or 0,
        problems=problems,
        problem_count=problem_count,
        changed_refs=changed_refs,
        removed_refs=frozenset(removed_refs - changed_refs),
    )


def _remove(session: Session, stale: set[str]) -> set[str]:
    """Delete what the stale units wrote; the references of the entities deleted."""
    refs: set[str] = set()
    for keys in _chunks(sorted(stale)):
        refs.update(
            session.scalars(select(CatalogEntityRow.ref).where(CatalogEntityRow.unit.in_(keys)))
        )
    for chunk in _chunks(sorted(refs)):
        session.execute(delete(CatalogRelationRow).where(CatalogRelationRow.producer.in_(chunk)))
    for keys in _chunks(sorted(stale)):
        session.execute(delete(CatalogEntityRow).where(CatalogEntityRow.unit.in_(keys)))
        session.execute(delete(CatalogUnitRow).where(CatalogUnitRow.key.in_(keys)))
    return refs


def _check_alone(
    session: Session, batches: list[tuple[CatalogUnit, IndexBatch]], refs: set[str]
) -> None:
    """NeedsFullWrite when a changed unit repeats an entity of another unit."""
    if any(batch.duplicates for _, batch in batches):
        raise NeedsFullWrite
    for chunk in _chunks(sorted(refs)):
        taken = select(CatalogEntityRow.ref).where(CatalogEntityRow.ref.in_(chunk)).limit(1)
        if session.scalars(taken).first() is not None:
            raise NeedsFullWrite


def _insert(session: Session, batches: list[tuple[CatalogUnit, IndexBatch]], now: datetime) -> None:
    entities: list[dict[str, Any]] = []
    relations: list[dict[str, str]] = []
    units: list[dict[str, Any]] = []
    for unit, batch in batches:
        key = unit_key(unit.key)
        entities.extend({**row(entity, now), "unit": key} for entity in batch.entities)
        relations.extend(
            {"source_ref": s, "type": t, "target_ref": d, "producer": p}
            for s, t, d, p in sorted(batch.relations)
        )
        problems = [*unit.problems, *batch.problems]
        notes = dict(unit.notes)
        if batch.duplicates:
            notes[DUPLICATE] = True
        units.append(
            {
                "key": key,
                "digest": unit.digest,
                "notes": notes,
                "problems": [_stored(p) for p in problems[:PROBLEMS_KEPT]],
                "problem_count": len(problems),
            }
        )
    for rows, table in ((entities, CatalogEntityRow), (relations, CatalogRelationRow)):
        if rows:
            session.execute(insert(table), rows)
    if units:
        session.execute(insert(CatalogUnitRow), units)


def _problems(session: Session) -> tuple[list[CatalogProblem], int]:
    """The index's problems in unit order (the first PROBLEMS_KEPT), and how many in all."""
    found: list[CatalogProblem] = []
    total = 0
    rows = session.execute(
        select(CatalogUnitRow.problems, CatalogUnitRow.problem_count)
        .where(CatalogUnitRow.problem_count > 0)
        .order_by(CatalogUnitRow.key)
    )
    for problems, count in rows:
        total += count
        found.extend(CatalogProblem(p["source"], p["reason"]) for p in problems)
    return found[:PROBLEMS_KEPT], total


def _stored(problem: CatalogProblem) -> dict[str, str]:
    return {"source": problem.source[:SOURCE_LENGTH], "reason": problem.reason[:REASON_LENGTH]}


def _chunks(values: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]
