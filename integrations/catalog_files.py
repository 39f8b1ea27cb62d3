"""`CatalogProvider` over a directory of `catalog-info.yaml` files (the embedded default).

Every `*.yaml` / `*.yml` file under the directory is read; a file may hold several
documents (`---`). A document that is not a valid entity, or a file that is not valid YAML,
becomes a `CatalogProblem` naming the file (and document) and the reason, and the rest of
the catalog is still returned: one team's typo must not empty everyone's lookups.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from integrations.catalog_model import EntityInvalid, parse_entity
from integrations.errors import ProviderUnavailable
from integrations.protocols import CatalogEntity, CatalogProblem, CatalogSnapshot

PROVIDER = "catalog files"
_SUFFIXES = (".yaml", ".yml")
# libyaml's loader when PyYAML was built with it: a 50,000-entity catalog parses ~10x faster.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class CatalogFiles:
    """Entities from the YAML files under `root`."""

    name = "files"

    def __init__(self, root: Path) -> None:
        self._root = root

    def fetch_all(self) -> CatalogSnapshot:
        if not self._root.is_dir():
            raise ProviderUnavailable(PROVIDER, f"{self._root} is not a directory")
        entities: list[CatalogEntity] = []
        problems: list[CatalogProblem] = []
        seen: dict[str, str] = {}
        for path in sorted(p for p in self._root.rglob("*") if p.suffix in _SUFFIXES):
            shown = str(path.relative_to(self._root))
            found, file_problems = read_file(path, shown)
            problems.extend(file_problems)
            for entity in found:
                first = seen.get(entity.ref)
                if first is not None:
                    problems.append(
                        CatalogProblem(
                            entity.source or shown, f"{entity.ref} is already defined in {first}"
                        )
                    )
                    continue
                seen[entity.ref] = entity.source or shown
                entities.append(entity)
        return CatalogSnapshot(entities=tuple(entities), problems=tuple(problems))


def read_file(path: Path, shown: str) -> tuple[list[CatalogEntity], list[CatalogProblem]]:
    """The entities in one file and the problems with it; never raises for bad content."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [], [CatalogProblem(shown, f"cannot read the file: {exc}")]
    try:
        documents = list(yaml.load_all(text, Loader=_LOADER))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        reason = getattr(exc, "problem", None) or "invalid YAML"
        return [], [CatalogProblem(shown, f"not valid YAML{where}: {reason}")]
    entities: list[CatalogEntity] = []
    problems: list[CatalogProblem] = []
    multi = len(documents) > 1
    for number, document in enumerate(documents, start=1):
        if document is None:
            continue  # an empty document, e.g. a trailing `---`
        source = f"{shown}#{number}" if multi else shown
        try:
            entities.append(parse_entity(document, source=source))
        except EntityInvalid as exc:
            problems.append(CatalogProblem(source, str(exc)))
    return entities, problems
