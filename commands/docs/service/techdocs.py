"""The TechDocs of catalog entities as documentation trees.

An entity annotated `backstage.io/techdocs-ref: dir:PATH` has its docs (an MkDocs tree) at
PATH relative to its catalog-info.yaml, as Backstage's TechDocs reads them. Only `dir:`
references inside the catalog directory are followed; `url:` references (docs in another
repository) are reported, not fetched. Each entity's tree is named `td-` and a hash of its
reference (stable across refreshes, within the 32 characters a tree name has), titled with
the entity's title.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from urllib.parse import quote

from commands.docs.config import DocsCatalog, DocsTree
from commands.docs.service.trees import Problem
from integrations.protocols import CatalogProvider

ANNOTATION = "backstage.io/techdocs-ref"
PREFIX = "td-"
MAX_ENTITY_TREES = 2_000


def catalog_trees(
    provider: CatalogProvider, catalog: DocsCatalog, base: Path
) -> tuple[list[DocsTree], list[Problem]]:
    """The trees of the entities that carry TechDocs, and what could not be followed.

    Raises what `provider.fetch_all` raises (the catalog unreachable)."""
    root = (base / catalog.path).resolve()
    trees: list[DocsTree] = []
    problems: list[Problem] = []
    for entity in provider.fetch_all().entities:
        reference = entity.annotations.get(ANNOTATION)
        if not reference or entity.source is None:
            continue
        shown = entity.source.split("#", 1)[0]
        if not reference.startswith("dir:"):
            problems.append(Problem(shown, f"{ANNOTATION} {reference[:80]!r}: only dir: is read"))
            continue
        folder = Path(os.path.normpath(root / Path(shown).parent / reference[4:].strip()))
        if not folder.is_relative_to(root):
            problems.append(Problem(shown, f"{ANNOTATION} points outside the catalog directory"))
            continue
        if len(trees) >= MAX_ENTITY_TREES:
            problems.append(Problem(shown, f"more than {MAX_ENTITY_TREES} TechDocs; skipped"))
            break
        site_url = catalog.site_url.format(
            namespace=quote(entity.namespace, safe=""),
            kind=quote(entity.kind.lower(), safe=""),
            name=quote(entity.name, safe=""),
        )
        trees.append(
            DocsTree(
                name=PREFIX + hashlib.sha256(entity.ref.encode()).hexdigest()[:16],
                path=folder,
                site_url=site_url,
                title=(entity.title or entity.name)[:80],
            )
        )
    return trees, problems
