"""The local catalog index: entities, their resolved relations, and each refresh's outcome.

Lookups never read these tables on the request path: every process loads them into an
in-memory read model (`catalog_index.ReadModel`) after a refresh and swaps it in whole.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.db import Base, JsonDocument, UtcDateTime

_Id = BigInteger().with_variant(Integer(), "sqlite")
REF_LENGTH = 300  # kind (≤ 63) + ':' + namespace (≤ 63) + '/' + name (≤ 63), with headroom
NAME_LENGTH = 63  # Backstage's limit on kinds, namespaces and names
TYPE_LENGTH = 63
UNIT_LENGTH = 1_000  # a catalog file's path, or an entity's reference


class CatalogEntityRow(Base):
    """One entity as last read from the catalog; `document` keeps the fields lookups show."""

    __tablename__ = "catalog_entity"
    __table_args__ = (
        Index("ix_catalog_entity_name", "name"),
        Index("ix_catalog_entity_unit", "unit"),
    )

    ref: Mapped[str] = mapped_column(String(REF_LENGTH), primary_key=True)
    kind: Mapped[str] = mapped_column(String(NAME_LENGTH))
    namespace: Mapped[str] = mapped_column(String(NAME_LENGTH))
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    title: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    document: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    source: Mapped[str | None] = mapped_column(String(500))
    refreshed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    unit: Mapped[str | None] = mapped_column(String(UNIT_LENGTH))
    """The `catalog_unit` it was read from: rewritten only when that unit changes."""


class CatalogRelationRow(Base):
    """A resolved relation: (`source_ref`, ownedBy|partOf|memberOf|hasMember|…, `target_ref`).

    `producer` is the entity whose data states it (one end of it): the relation goes when
    that entity changes. Both ends may state the same relation, so it can appear twice.
    """

    __tablename__ = "catalog_relation"
    __table_args__ = (
        Index("ix_catalog_relation_target_ref", "target_ref"),
        Index("ix_catalog_relation_producer", "producer"),
    )

    source_ref: Mapped[str] = mapped_column(String(REF_LENGTH), primary_key=True)
    type: Mapped[str] = mapped_column(String(TYPE_LENGTH), primary_key=True)
    target_ref: Mapped[str] = mapped_column(String(REF_LENGTH), primary_key=True)
    producer: Mapped[str] = mapped_column(String(REF_LENGTH), primary_key=True)


class CatalogUnitRow(Base):
    """What the provider reads as one piece (a file, or a Backstage entity), as last read.

    An unchanged `digest` means the unit's entities in the index are still right, so a
    refresh neither parses nor rewrites them; `problems` are the unit's skipped entities,
    kept for the refresh's report.
    """

    __tablename__ = "catalog_unit"

    key: Mapped[str] = mapped_column(String(UNIT_LENGTH), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))
    notes: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    problems: Mapped[list[dict[str, str]]] = mapped_column(JsonDocument)
    problem_count: Mapped[int] = mapped_column(Integer, default=0)


class CatalogRefreshRow(Base):
    """One refresh: the newest succeeded row is the index's generation."""

    __tablename__ = "catalog_refresh"
    __table_args__ = (Index("ix_catalog_refresh_status_id", "status", "id"),)

    id: Mapped[int] = mapped_column(_Id, primary_key=True, autoincrement=True)
    provider: Mapped[str] = mapped_column(String(63))
    status: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    entity_count: Mapped[int] = mapped_column(Integer, default=0)
    problem_count: Mapped[int] = mapped_column(Integer, default=0)
    problems: Mapped[list[dict[str, str]]] = mapped_column(JsonDocument)
    error: Mapped[str | None] = mapped_column(String(500))
    previous_id: Mapped[int | None] = mapped_column(_Id)
    """The generation an incremental refresh changed (None: a full one)."""
    changes: Mapped[dict[str, list[str]] | None] = mapped_column(JsonDocument)
    """The references it wrote and removed, when few enough for other processes to read
    only those rows (None: they read the whole index)."""
