"""The local catalog index: refreshed from the catalog provider, read through a ReadModel.

`CatalogIndex.refresh` copies every entity the provider returns into the app database in
one transaction (entities, resolved relations, and a `catalog_refresh` row whose id is the
index's generation), so readers see the old index or the new one, never half of each.
`CatalogIndex.load` builds an immutable `ReadModel` from the tables; the service swaps it in
whole, so lookups are dictionary reads on data that never changes under them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot.core.db import SessionFactory, utcnow
from bot.core.errors import Unavailable
from commands.lookup.models import CatalogEntityRow, CatalogRefreshRow, CatalogRelationRow
from commands.lookup.service.index_rows import SOURCE_LENGTH, IndexBatch, prepare, row
from commands.lookup.service.read_model import EntityReader, ReadModel, release_memory
from integrations.errors import IntegrationError
from integrations.protocols import CatalogProblem, CatalogProvider

logger = logging.getLogger(__name__)

SUCCEEDED = "succeeded"
FAILED = "failed"
# A 64-bit key for PostgreSQL's transaction-level advisory lock: "catalog refresh".
_REFRESH_LOCK = 0x6361_7461_6C6F_67
PROBLEMS_KEPT = 200
REASON_LENGTH = 1_000
# Said in the failed refresh's record: the database's own error can quote catalog data.
WRITE_REFUSED = "the index could not be written (the database refused it)"


@dataclass(frozen=True)
class RefreshOutcome:
    generation: int
    provider: str
    entity_count: int
    problems: tuple[CatalogProblem, ...]
    seconds: float


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

    def refresh(self) -> RefreshOutcome:
        """Fetch everything from the provider and replace the index.

        IntegrationError when the catalog is down, Unavailable when the database refuses
        the new index; either way a failed `catalog_refresh` row says so and the last good
        index stays.
        """
        started = time.perf_counter()
        started_at = self._clock()
        try:
            snapshot = self._provider.fetch_all()
        except IntegrationError as exc:
            self._record_failure(started_at, exc.message)
            raise
        try:
            batch = prepare(snapshot.entities)
            problems = [*snapshot.problems, *batch.problems]
            generation = self._write(batch, problems, started_at)
        except SQLAlchemyError:
            logger.exception("the catalog index could not be written")
            self._record_failure(started_at, WRITE_REFUSED)
            raise Unavailable(
                "The catalog index could not be written; lookups keep using the last one."
            ) from None
        except Exception as exc:
            self._record_failure(started_at, f"the refresh stopped on {type(exc).__name__}")
            raise
        for problem in problems:
            logger.warning("catalog entity skipped: %s: %s", problem.source, problem.reason)
        return RefreshOutcome(
            generation=generation,
            provider=self._provider.name,
            entity_count=len(batch.entities),
            problems=tuple(problems),
            seconds=time.perf_counter() - started,
        )

    def _write(
        self, batch: IndexBatch, problems: list[CatalogProblem], started_at: datetime
    ) -> int:
        """Replace the index in one transaction; the new refresh's id."""
        now = self._clock()
        with self._sessions.begin() as session:
            _serialize_refreshes(session)
            session.execute(delete(CatalogRelationRow))
            session.execute(delete(CatalogEntityRow))
            if batch.entities:
                session.execute(insert(CatalogEntityRow), [row(e, now) for e in batch.entities])
            if batch.relations:
                session.execute(
                    insert(CatalogRelationRow),
                    [
                        {"source_ref": s, "type": t, "target_ref": d}
                        for s, t, d in sorted(batch.relations)
                    ],
                )
            refresh = CatalogRefreshRow(
                provider=self._provider.name,
                status=SUCCEEDED,
                started_at=started_at,
                finished_at=self._clock(),
                entity_count=len(batch.entities),
                problem_count=len(problems),
                problems=[
                    {"source": p.source[:SOURCE_LENGTH], "reason": p.reason[:REASON_LENGTH]}
                    for p in problems[:PROBLEMS_KEPT]
                ],
            )
            session.add(refresh)
            session.flush()
            return refresh.id

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
        with self._sessions() as session:
            latest = session.scalars(
                select(CatalogRefreshRow)
                .where(CatalogRefreshRow.status == SUCCEEDED)
                .order_by(CatalogRefreshRow.id.desc())
                .limit(1)
            ).first()
            if latest is None:
                return ReadModel.empty()
            rows = session.execute(
                select(
                    CatalogEntityRow.ref,
                    CatalogEntityRow.kind,
                    CatalogEntityRow.namespace,
                    CatalogEntityRow.name,
                    CatalogEntityRow.title,
                    CatalogEntityRow.description,
                    CatalogEntityRow.document,
                ).execution_options(yield_per=2_000)
            )
            # Streamed: each row becomes an entity as it arrives, so the raw rows and their
            # JSON never all exist at once (that peak would stay in the process's RSS).
            reader = EntityReader()
            entities = [reader.entity(*row) for row in rows]
            pairs = session.execute(
                select(CatalogRelationRow.source_ref, CatalogRelationRow.target_ref).where(
                    CatalogRelationRow.type == "hasMember"
                )
            )
            member_pairs = [(group, user) for group, user in pairs]
            problems = [CatalogProblem(p["source"], p["reason"]) for p in latest.problems or []]
            model = ReadModel.build(
                entities,
                member_pairs,
                generation=latest.id,
                refreshed_at=latest.finished_at,
                problems=problems,
            )
        del entities, member_pairs, reader
        release_memory()
        return model


def _serialize_refreshes(session: Session) -> None:
    """Two replicas refreshing at once would both delete and insert the same keys.

    On PostgreSQL a transaction-level advisory lock makes the second wait; SQLite has a
    single writer anyway.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _REFRESH_LOCK})
