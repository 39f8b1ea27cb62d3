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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.orm import Session

from bot.db import SessionFactory, utcnow
from commands.lookup.models import CatalogEntityRow, CatalogRefreshRow, CatalogRelationRow
from commands.lookup.read_model import ReadModel, entity_from_row, release_memory
from integrations.catalog_model import full_ref
from integrations.errors import IntegrationError
from integrations.protocols import CatalogEntity, CatalogProblem, CatalogProvider

logger = logging.getLogger(__name__)

SUCCEEDED = "succeeded"
FAILED = "failed"
# Only these annotations are kept in the index: what cards, on-call and links read.
KEPT_ANNOTATIONS = (
    "pagerduty.com/service-id",
    "pagerduty.com/escalation-policy-id",
    "pagerduty.com/schedule-id",
    "opsgenie.com/schedule",
    "opsgenie.com/team",
    "platform-bot/rotation",
    "slack.com/bot-notify",
    "slack.com/user-id",
    "github.com/project-slug",
    "backstage.io/techdocs-ref",
    "backstage.io/source-location",
)
# Each relation is also written from the other side.
_INVERSE = {
    "ownedBy": "ownerOf",
    "partOf": "hasPart",
    "memberOf": "hasMember",
    "hasMember": "memberOf",
    "childOf": "parentOf",
    "parentOf": "childOf",
    "dependsOn": "dependencyOf",
}
# A 64-bit key for PostgreSQL's transaction-level advisory lock: "catalog refresh".
_REFRESH_LOCK = 0x6361_7461_6C6F_67
PROBLEMS_KEPT = 200


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
        """Fetch everything from the provider and replace the index; IntegrationError if down."""
        started = time.perf_counter()
        started_at = self._clock()
        try:
            snapshot = self._provider.fetch_all()
        except IntegrationError as exc:
            self._record_failure(started_at, exc.message)
            raise
        now = self._clock()
        entities = list(snapshot.entities)
        relations = resolve_relations(entities)
        problems = list(snapshot.problems)
        with self._sessions.begin() as session:
            _serialize_refreshes(session)
            session.execute(delete(CatalogRelationRow))
            session.execute(delete(CatalogEntityRow))
            if entities:
                session.execute(insert(CatalogEntityRow), [_row(e, now) for e in entities])
            if relations:
                session.execute(
                    insert(CatalogRelationRow),
                    [
                        {"source_ref": s, "type": t, "target_ref": d}
                        for s, t, d in sorted(relations)
                    ],
                )
            refresh = CatalogRefreshRow(
                provider=self._provider.name,
                status=SUCCEEDED,
                started_at=started_at,
                finished_at=self._clock(),
                entity_count=len(entities),
                problem_count=len(problems),
                problems=[{"source": p.source, "reason": p.reason} for p in problems][
                    :PROBLEMS_KEPT
                ],
            )
            session.add(refresh)
            session.flush()
            generation = refresh.id
        for problem in problems:
            logger.warning("catalog entity skipped: %s: %s", problem.source, problem.reason)
        return RefreshOutcome(
            generation=generation,
            provider=self._provider.name,
            entity_count=len(entities),
            problems=tuple(problems),
            seconds=time.perf_counter() - started,
        )

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
            entities = [entity_from_row(*row) for row in rows]
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
        del entities, member_pairs
        release_memory()
        return model


def _serialize_refreshes(session: Session) -> None:
    """Two replicas refreshing at once would both delete and insert the same keys.

    On PostgreSQL a transaction-level advisory lock makes the second wait; SQLite has a
    single writer anyway.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _REFRESH_LOCK})


def resolve_relations(entities: Sequence[CatalogEntity]) -> set[tuple[str, str, str]]:
    """Relations from each entity's spec (short refs made full), their inverses, and any
    relations the catalog itself sent."""
    found: set[tuple[str, str, str]] = set()

    def add(source: str, kind: str, target: Any, default_kind: str) -> None:
        if not isinstance(target, str) or not target.strip():
            return
        target_ref = full_ref(target, default_kind=default_kind)
        found.add((source, kind, target_ref))
        found.add((target_ref, _INVERSE[kind], source))

    for entity in entities:
        spec, source = entity.spec, entity.ref
        add(source, "ownedBy", spec.get("owner"), "group")
        add(source, "partOf", spec.get("system"), "system")
        add(source, "partOf", spec.get("domain"), "domain")
        add(source, "partOf", spec.get("subcomponentOf"), "component")
        add(source, "childOf", spec.get("parent"), "group")
        for value in _strings(spec.get("memberOf")):
            add(source, "memberOf", value, "group")
        for value in _strings(spec.get("members")):
            add(source, "hasMember", value, "user")
        for value in _strings(spec.get("children")):
            add(source, "parentOf", value, "group")
        for value in _strings(spec.get("dependsOn")):
            add(source, "dependsOn", value, "component")
        for relation in entity.relations:
            found.add((source, relation.type, relation.target_ref))
    return found


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _ref_or_none(value: Any, default_kind: str) -> str | None:
    if isinstance(value, str) and value.strip():
        return full_ref(value, default_kind=default_kind)
    return None


def _row(entity: CatalogEntity, now: datetime) -> dict[str, Any]:
    spec = entity.spec
    profile = spec.get("profile")
    if not isinstance(profile, dict):
        profile = {}
    document = {
        "lifecycle": spec.get("lifecycle") if isinstance(spec.get("lifecycle"), str) else None,
        "type": spec.get("type") if isinstance(spec.get("type"), str) else None,
        "owner": _ref_or_none(spec.get("owner"), "group"),
        "system": _ref_or_none(spec.get("system"), "system"),
        "tags": list(entity.tags),
        "annotations": {k: v for k, v in entity.annotations.items() if k in KEPT_ANNOTATIONS},
        "links": [
            {"url": link.url, "title": link.title, "icon": link.icon, "type": link.type}
            for link in entity.links
        ],
        "email": profile.get("email") if isinstance(profile.get("email"), str) else None,
        "display_name": (
            profile.get("displayName") if isinstance(profile.get("displayName"), str) else None
        ),
    }
    return {
        "ref": entity.ref,
        "kind": entity.kind,
        "namespace": entity.namespace,
        "name": entity.name,
        "title": entity.title[:255] if entity.title else None,
        "description": entity.description,
        "document": document,
        "source": entity.source[:500] if entity.source else None,
        "refreshed_at": now,
    }
