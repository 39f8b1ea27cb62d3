"""The local catalog index: refreshed from the catalog provider, read through a ReadModel.

`CatalogIndex.refresh` writes the catalog into the app database in one transaction
(entities, resolved relations, the units they were read from, and a `catalog_refresh` row
whose id is the index's generation), so readers see the old index or the new one, never half
of each. A provider that reads the catalog as units (files, Backstage entities) is asked
only for those that changed, and only those are rewritten (`index_writer`); `full=True`
rewrites everything. `CatalogIndex.load` builds an immutable `ReadModel` from the tables, and
`load_changes` builds the next one from the last and the changed rows; the service swaps it
in whole, so lookups are dictionary reads on data that never changes under them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot.core.db import SessionFactory, utcnow
from bot.core.errors import Unavailable
from commands.lookup.models import CatalogEntityRow, CatalogRefreshRow, CatalogRelationRow
from commands.lookup.service.index_rows import SOURCE_LENGTH
from commands.lookup.service.index_writer import (
    CHUNK,
    REASON_LENGTH,
    NeedsFullWrite,
    Written,
    can_be_incremental,
    known_units,
    write_units,
)
from commands.lookup.service.read_model import (
    EntityReader,
    IndexedEntity,
    ReadModel,
    release_memory,
)
from integrations.catalog_units import CatalogUnit, KnownUnit
from integrations.errors import IntegrationError
from integrations.protocols import CatalogProblem, CatalogProvider

logger = logging.getLogger(__name__)

KNOWN_MOVED_RETRIES = 3
# Past this many changed entities, other processes read the whole index instead.
CHANGES_KEPT = 5_000


class KnownMoved(Exception):
    """Another process wrote the index since its units were read."""


SUCCEEDED = "succeeded"
FAILED = "failed"
# A 64-bit key for PostgreSQL's transaction-level advisory lock: "catalog refresh".
_REFRESH_LOCK = 0x6361_7461_6C6F_67
# Said in the failed refresh's record: the database's own error can quote catalog data.
WRITE_REFUSED = "the index could not be written (the database refused it)"


@dataclass(frozen=True)
class RefreshOutcome:
    generation: int
    provider: str
    entity_count: int
    problems: tuple[CatalogProblem, ...]
    seconds: float
    full: bool = True
    problem_count: int | None = None
    """All problems in the index; `problems` holds the first PROBLEMS_KEPT of them."""
    previous_generation: int | None = None
    """The generation this refresh's changes apply to (its predecessor)."""
    changed_refs: frozenset[str] = frozenset()
    removed_refs: frozenset[str] = frozenset()


class CatalogIndex:
    """Writes the index from a provider and reads it back as a ReadModel."""

    def __init__(
        self,
        sessions: SessionFactory,
        provider: CatalogProvider,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self._provider = provider
        self._clock = clock

    @property
    def provider_name(self) -> str:
        return self._provider.name

    def refresh(self, *, full: bool = False) -> RefreshOutcome:
        """Read the catalog and write what changed into the index (everything when `full`,
        or when the provider cannot tell what changed).

        IntegrationError when the catalog is down, Unavailable when the database refuses
        the new index; either way a failed `catalog_refresh` row says so and the last good
        index stays.
        """
        started = time.perf_counter()
        started_at = self._clock()
        try:
            written, generation, previous = self._read_and_write(full, started_at)
        except IntegrationError as exc:
            self._record_failure(started_at, exc.message)
            raise
        except SQLAlchemyError:
            logger.exception("the catalog index could not be written")
            self._record_failure(started_at, WRITE_REFUSED)
            raise Unavailable(
                "The catalog index could not be written; lookups keep using the last one."
            ) from None
        except Exception as exc:
            self._record_failure(started_at, f"the refresh stopped on {type(exc).__name__}")
            raise
        for problem in written.problems:
            logger.warning("catalog entity skipped: %s: %s", problem.source, problem.reason)
        if written.problem_count > len(written.problems):
            logger.warning(
                "%d more catalog entities skipped", written.problem_count - len(written.problems)
            )
        return RefreshOutcome(
            generation=generation,
            provider=self._provider.name,
            entity_count=written.entity_count,
            problems=tuple(written.problems),
            seconds=time.perf_counter() - started,
            full=written.full,
            problem_count=written.problem_count,
            previous_generation=previous,
            changed_refs=written.changed_refs,
            removed_refs=written.removed_refs,
        )

    def _read_and_write(self, full: bool, started_at: datetime) -> tuple[Written, int, int | None]:
        known = None if full else self._known()
        for _ in range(KNOWN_MOVED_RETRIES):
            try:
                units, known = self._units(known)
                return self._write(units, known, started_at)
            except KnownMoved:
                # Another process refreshed meanwhile (replicas refresh at the same start):
                # compare against what it wrote instead of reading everything.
                known = self._known()
            except NeedsFullWrite:
                break
        units, known = self._units(None)
        return self._write(units, None, started_at)

    def _known(self) -> dict[str, KnownUnit] | None:
        """The units the index holds, or None when the provider reads no units."""
        if not hasattr(self._provider, "fetch_units"):
            return None
        with self._sessions() as session:
            known = known_units(session)
        return known if can_be_incremental(known) else None

    def _units(
        self, known: dict[str, KnownUnit] | None
    ) -> tuple[list[CatalogUnit], dict[str, KnownUnit] | None]:
        """The catalog's units read against `known` (None: all of them read)."""
        fetch_units = getattr(self._provider, "fetch_units", None)
        if fetch_units is None:
            # A provider without units is one unit, always changed: every refresh is full.
            snapshot = self._provider.fetch_all()
            return [CatalogUnit("", "", True, snapshot.entities, snapshot.problems)], None
        units: list[CatalogUnit] = fetch_units(known or {})
        return units, known

    def _write(
        self, units: list[CatalogUnit], known: dict[str, KnownUnit] | None, started_at: datetime
    ) -> tuple[Written, int, int | None]:
        """Write the units in one transaction: what was written, the new refresh's id and
        the generation it follows."""
        with self._sessions.begin() as session:
            _serialize_refreshes(session)
            if known is not None and known_units(session) != known:
                raise KnownMoved
            previous = session.scalar(
                select(func.max(CatalogRefreshRow.id)).where(CatalogRefreshRow.status == SUCCEEDED)
            )
            written = write_units(session, units, known, self._clock())
            refresh = CatalogRefreshRow(
                provider=self._provider.name,
                status=SUCCEEDED,
                started_at=started_at,
                finished_at=self._clock(),
                entity_count=written.entity_count,
                problem_count=written.problem_count,
                problems=[
                    {"source": p.source[:SOURCE_LENGTH], "reason": p.reason[:REASON_LENGTH]}
                    for p in written.problems
                ],
                previous_id=None if written.full else previous,
                changes=_changes(written),
            )
            session.add(refresh)
            session.flush()
            return written, refresh.id, previous

    def _record_failure(self, started_at: datetime, message: str) -> None:
        with self._sessions.begin() as session:
            session.add(
                CatalogRefreshRow(
                    provider=self._provider.name,
                    status=FAILED,
                    started_at=started_at,
                    finished_at=self._clock(),
                    entity_count=0,
                    problem_count=0,
                    problems=[],
                    error=message[:500],
                )
            )

    def generation(self) -> int | None:
        """The id of the newest successful refresh (None before the first one)."""
        with self._sessions() as session:
            return session.scalar(
                select(func.max(CatalogRefreshRow.id)).where(CatalogRefreshRow.status == SUCCEEDED)
            )

    def last_refresh(self) -> CatalogRefreshRow | None:
        with self._sessions() as session:
            return session.scalars(
                select(CatalogRefreshRow).order_by(CatalogRefreshRow.id.desc()).limit(1)
            ).first()

    def load(self) -> ReadModel:
        """The read model for the newest successful refresh (empty before the first)."""
        return self._load(None)

    def load_newer(self, model: ReadModel | None) -> ReadModel:
        """The read model of the newest generation: from `model` and the rows the refreshes
        since changed when it is the generation just before and that refresh kept its list
        of changes, else the whole index read again."""
        with self._sessions() as session:
            latest = _latest(session)
        changes = None if latest is None else latest.changes
        if model is None or latest is None or changes is None or latest.previous_id is None:
            return self.load()
        outcome = RefreshOutcome(
            generation=latest.id,
            provider=latest.provider,
            entity_count=latest.entity_count,
            problems=(),
            seconds=0.0,
            full=False,
            previous_generation=latest.previous_id,
            changed_refs=frozenset(changes.get("changed") or ()),
            removed_refs=frozenset(changes.get("removed") or ()),
        )
        return self.load_changes(model, outcome)

    def load_changes(self, model: ReadModel, outcome: RefreshOutcome) -> ReadModel:
        """The read model after `outcome`: `model` with only the changed rows read again,
        when `model` is the generation the refresh followed and no other has come since;
        else the whole index read again."""
        if outcome.full or model.generation != outcome.previous_generation:
            return self.load()
        return self._load((model, outcome))

    def _load(self, change: tuple[ReadModel, RefreshOutcome] | None) -> ReadModel:
        with self._sessions() as session:
            latest = _latest(session)
            if latest is None:
                return ReadModel.empty()
            if change is not None and latest.id != change[1].generation:
                change = None  # another refresh came in between: read it all
            entities = _entities(session, change)
            pairs = session.execute(
                select(CatalogRelationRow.source_ref, CatalogRelationRow.target_ref)
                .where(CatalogRelationRow.type == "hasMember")
                .distinct()
            )
            member_pairs = [(group, user) for group, user in pairs]
            problems = [CatalogProblem(p["source"], p["reason"]) for p in latest.problems or []]
            model = ReadModel.build(
                entities,
                member_pairs,
                generation=latest.id,
                refreshed_at=latest.finished_at,
                problems=problems,
                previous=None if change is None else change[0],
                changed=frozenset() if change is None else change[1].changed_refs,
            )
        del entities, member_pairs
        release_memory()
        return model


def _latest(session: Session) -> CatalogRefreshRow | None:
    """The newest successful refresh: the index's generation."""
    return session.scalars(
        select(CatalogRefreshRow)
        .where(CatalogRefreshRow.status == SUCCEEDED)
        .order_by(CatalogRefreshRow.id.desc())
        .limit(1)
    ).first()


def _changes(written: Written) -> dict[str, list[str]] | None:
    """What an incremental refresh changed, for other processes; None when full or when
    the list would be longer than reading the whole index is worth."""
    if written.full or len(written.changed_refs) + len(written.removed_refs) > CHANGES_KEPT:
        return None
    return {"changed": sorted(written.changed_refs), "removed": sorted(written.removed_refs)}


def _entities(
    session: Session, change: tuple[ReadModel, RefreshOutcome] | None
) -> list[IndexedEntity]:
    """Every entity in reference order: all read from the index, or, for a `change`, the
    unchanged ones taken from its model and only the changed ones read."""
    columns = select(
        CatalogEntityRow.ref,
        CatalogEntityRow.kind,
        CatalogEntityRow.namespace,
        CatalogEntityRow.name,
        CatalogEntityRow.title,
        CatalogEntityRow.description,
        CatalogEntityRow.document,
    )
    reader = EntityReader()
    if change is None:
        # Streamed: each row becomes an entity as it arrives, so the raw rows and their
        # JSON never all exist at once (that peak would stay in the process's RSS).
        rows = session.execute(
            columns.order_by(CatalogEntityRow.ref).execution_options(yield_per=2_000)
        )
        return [reader.entity(*row) for row in rows]
    model, outcome = change
    changed = sorted(outcome.changed_refs)
    entities = [
        entity
        for entity in model.entities.values()
        if entity.ref not in outcome.changed_refs and entity.ref not in outcome.removed_refs
    ]
    for start in range(0, len(changed), CHUNK):
        chunk = changed[start : start + CHUNK]
        rows = session.execute(columns.where(CatalogEntityRow.ref.in_(chunk)))
        entities.extend(reader.entity(*row) for row in rows)
    entities.sort(key=_by_ref)
    return entities


def _by_ref(entity: IndexedEntity) -> str:
    return entity.ref


def _serialize_refreshes(session: Session) -> None:
    """Two replicas refreshing at once would both delete and insert the same keys.

    On PostgreSQL a transaction-level advisory lock makes the second wait; SQLite has a
    single writer anyway.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _REFRESH_LOCK})
