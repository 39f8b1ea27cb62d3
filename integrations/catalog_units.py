"""Catalog units: what a provider reads and changes as one piece, so a refresh can skip
what did not change.

A unit is a catalog file for the files provider, one entity for Backstage. Each comes with a
digest of its content; the index keeps the digest (and the provider's `notes`) of every
unit it holds and hands them back as `known`, and a unit whose digest is unchanged comes
back with `changed=False` and nothing read: its entities in the index are still right.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from integrations.protocols import CatalogEntity, CatalogProblem, CatalogSnapshot

DUPLICATE = "d"
"""In a unit's notes: it repeats an entity of another unit. Which copy is kept depends on
the other units, so refreshes are full while a catalog has one."""


@dataclass(frozen=True)
class KnownUnit:
    digest: str
    notes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CatalogUnit:
    key: str
    digest: str
    changed: bool
    entities: tuple[CatalogEntity, ...] = ()
    problems: tuple[CatalogProblem, ...] = ()
    notes: Mapping[str, Any] = field(default_factory=dict)
    """What the provider needs of an unchanged unit next time (kept by the index)."""


class UnitCatalogProvider(Protocol):
    """A `CatalogProvider` that can also say which of its units changed."""

    name: str

    def fetch_all(self) -> CatalogSnapshot: ...

    def fetch_units(self, known: Mapping[str, KnownUnit]) -> list[CatalogUnit]:
        """Every unit of the catalog, in the order a full read returns them."""
        ...


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def snapshot_of(units: list[CatalogUnit]) -> CatalogSnapshot:
    """The whole catalog from units that were all read (`known` was empty)."""
    return CatalogSnapshot(
        entities=tuple(e for unit in units for e in unit.entities),
        problems=tuple(p for unit in units for p in unit.problems),
    )
