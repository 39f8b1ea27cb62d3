"""`CatalogProvider` over a directory of `catalog-info.yaml` files (the embedded default).

Which files hold entities follows Backstage: the files matching the configured globs, and
every file a `Location` entity points to (`spec.target` / `spec.targets`, relative to the
Location's own file, globs allowed), followed to any depth. A file that an entity pulls in
through a `$text`, `$json` or `$yaml` placeholder (an OpenAPI definition next to
`catalog-info.yaml`, say) is that entity's data, not a catalog file, even when a broad glob
matches it. Targets outside the directory and URL targets are not read; they are reported.

A file may hold several documents (`---`). A document that is not a valid entity, or a file
that is not valid YAML, becomes a `CatalogProblem` naming the file (and document) and the
reason, and the rest of the catalog is still returned: one team's typo must not empty
everyone's lookups.
"""

from __future__ import annotations

import json
import os
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from integrations.catalog_model import EntityInvalid, parse_entity
from integrations.catalog_units import DUPLICATE, CatalogUnit, KnownUnit, digest, snapshot_of
from integrations.errors import ProviderUnavailable
from integrations.protocols import CatalogEntity, CatalogProblem, CatalogSnapshot

PROVIDER = "catalog files"
DEFAULT_GLOBS = ("**/*.yaml", "**/*.yml")
PLACEHOLDERS = frozenset({"$text", "$json", "$yaml"})
# A catalog this large is a mistake (a glob over node_modules, say); stop rather than crawl.
MAX_FILES = 100_000
_GLOB_CHARS = frozenset("*?[")
# libyaml's loader when PyYAML was built with it: a 50,000-entity catalog parses ~10x faster.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Read = CatalogEntity | CatalogProblem


@dataclass
class _File:
    found: list[Read]
    pointed: bool
    """A Location points to it: an entity file even if a placeholder also names it."""
    digest: str = ""
    read: bool = True
    """False when its digest was known: nothing in it was parsed."""
    placeholders: list[str] = field(default_factory=list)
    follows: bool = False
    """It holds a Location: always read, since what its targets match can change."""


@dataclass
class _Crawl:
    root: Path
    known: Mapping[str, KnownUnit] = field(default_factory=dict)
    files: dict[Path, _File] = field(default_factory=dict)
    referenced: set[Path] = field(default_factory=set)
    queue: deque[tuple[Path, bool]] = field(default_factory=deque)

    def shown(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def run(self) -> None:
        while self.queue:
            path, pointed = self.queue.popleft()
            crawled = self.files.get(path)
            if crawled is not None:
                crawled.pointed |= pointed
                continue
            if len(self.files) >= MAX_FILES:
                raise ProviderUnavailable(PROVIDER, f"more than {MAX_FILES:,} catalog files")
            shown = self.shown(path)
            data, problem = _read(path, shown)
            entry = _File(
                [problem] if problem else [], pointed, "" if data is None else digest(data)
            )
            self.files[path] = entry
            known = self.known.get(shown)
            if known is not None and known.digest == entry.digest and not known.notes.get("f"):
                entry.read = False
                entry.placeholders = list(known.notes.get("p") or ())
                self.referenced.update(self.root / p for p in entry.placeholders)
                continue
            if data is not None:
                self._parse(path, entry, data)

    def _parse(self, path: Path, entry: _File, data: bytes) -> None:
        documents, problem = _load(data, self.shown(path))
        entry.found.extend([problem] if problem else [])
        multi = len(documents) > 1
        for number, document in enumerate(documents, start=1):
            if document is None:
                continue  # an empty document, e.g. a trailing `---`
            source = f"{self.shown(path)}#{number}" if multi else self.shown(path)
            self._note_placeholders(path.parent, document, entry)
            try:
                entity = parse_entity(document, source=source)
            except EntityInvalid as exc:
                entry.found.append(CatalogProblem(source, str(exc)))
                continue
            entry.found.append(entity)
            if entity.kind == "location":
                entry.follows = True
                entry.found.extend(self._follow(path, source, entity))

    def _note_placeholders(self, folder: Path, document: Any, entry: _File) -> None:
        for reference in _placeholders(document):
            if "://" not in reference:
                target = Path(os.path.normpath(folder / reference))
                self.referenced.add(target)
                if target.is_relative_to(self.root):
                    entry.placeholders.append(self.shown(target))

    def _follow(self, path: Path, source: str, location: CatalogEntity) -> Iterator[Read]:
        spec = location.spec
        optional = spec.get("presence") == "optional"
        field_name = "spec.targets" if "targets" in spec else "spec.target"
        targets = spec.get("targets") or [spec.get("target")]
        for target in targets if isinstance(targets, list) else []:
            if not isinstance(target, str) or not target:
                continue
            quoted = json.dumps(target[:200])
            if "://" in target or spec.get("type") == "url":
                yield CatalogProblem(
                    source,
                    f"{field_name}: {quoted} is a URL; "
                    "this provider reads only files in the catalog directory",
                )
                continue
            joined = Path(os.path.normpath(path.parent / target))
            if not joined.is_relative_to(self.root):
                yield CatalogProblem(
                    source, f"{field_name}: {quoted} is outside the catalog directory"
                )
                continue
            found = _expand(self.root, joined)
            if not found and not optional:
                yield CatalogProblem(source, f"{field_name}: {quoted} does not exist")
            self.queue.extend((match, True) for match in found)


class CatalogFiles:
    """Entities from the YAML files under `root` (see the module docstring for which)."""

    name = "files"

    def __init__(self, root: Path, *, globs: Sequence[str] = DEFAULT_GLOBS) -> None:
        self._root = root
        self._globs = tuple(globs)

    def fetch_all(self) -> CatalogSnapshot:
        return snapshot_of(self.fetch_units({}))

    def fetch_units(self, known: Mapping[str, KnownUnit]) -> list[CatalogUnit]:
        """Every entity file as a unit, in path order; those whose digest is in `known`
        (and that hold no Location) are not parsed."""
        if not self._root.is_dir():
            raise ProviderUnavailable(PROVIDER, f"{self._root} is not a directory")
        crawl = _Crawl(self._root.resolve(), known)
        for pattern in self._globs:
            crawl.queue.extend((path, False) for path in _glob(crawl.root, pattern))
        crawl.run()
        units: list[CatalogUnit] = []
        seen: dict[str, str] = {}
        for path in sorted(crawl.files):
            entry = crawl.files[path]
            if not entry.pointed and path in crawl.referenced:
                continue  # an entity's $text/$json/$yaml data
            units.append(_unit(crawl.shown(path), entry, seen))
        return units


def _unit(shown: str, entry: _File, seen: dict[str, str]) -> CatalogUnit:
    """One file's unit; a second definition of an entity read earlier becomes a problem."""
    notes: dict[str, Any] = {"p": entry.placeholders} if entry.placeholders else {}
    if entry.follows:
        notes["f"] = True
    if not entry.read:
        return CatalogUnit(shown, entry.digest, changed=False, notes=notes)
    entities: list[CatalogEntity] = []
    problems: list[CatalogProblem] = []
    for read in entry.found:
        if isinstance(read, CatalogProblem):
            problems.append(read)
            continue
        source = read.source or shown
        first = seen.setdefault(read.ref, source)
        if first != source:
            problems.append(CatalogProblem(source, f"{read.ref} is already defined in {first}"))
            notes[DUPLICATE] = True
            continue
        entities.append(read)
    return CatalogUnit(
        shown, entry.digest, changed=True, entities=tuple(entities), problems=tuple(problems),
        notes=notes,
    )  # fmt: skip


def _glob(root: Path, pattern: str) -> list[Path]:
    """Files under `root` matching `pattern`, never one a symlink leads outside of it."""
    found = []
    for path in sorted(root.glob(pattern)):
        if path.is_file() and path.resolve().is_relative_to(root):
            found.append(path)
    return found


def _expand(root: Path, target: Path) -> list[Path]:
    """The files a Location target names: one file, or every match of a glob."""
    if _GLOB_CHARS.isdisjoint(str(target)):
        return [target] if target.is_file() and target.resolve().is_relative_to(root) else []
    return _glob(root, target.relative_to(root).as_posix())


def _placeholders(document: Any) -> Iterator[str]:
    """Every `{$text|$json|$yaml: path}` value in a document (walked without recursion)."""
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if len(node) == 1:
                (key, value), *_ = node.items()
                if key in PLACEHOLDERS and isinstance(value, str):
                    yield value
                    continue
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def _read(path: Path, shown: str) -> tuple[bytes | None, CatalogProblem | None]:
    try:
        return path.read_bytes(), None
    except OSError as exc:
        return None, CatalogProblem(shown, f"cannot read the file: {exc}")


def _load(data: bytes, shown: str) -> tuple[list[Any], CatalogProblem | None]:
    """The documents in one file, or the problem reading it; never raises for bad content."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return [], CatalogProblem(shown, f"cannot read the file: {exc}")
    try:
        return list(yaml.load_all(text, Loader=_LOADER)), None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        reason = getattr(exc, "problem", None) or "invalid YAML"
        return [], CatalogProblem(shown, f"not valid YAML{where}: {reason}")
