"""YAML loading that remembers where every key came from, and `${VAR}` interpolation.

Pydantic reports errors by location (`("teams", "payments", "leads", 0)`); this module keeps
a map from those locations to line numbers so a config error can name both the key and the
line a platform engineer has to fix.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

Location = tuple[str | int, ...]

# ${NAME} or ${NAME:-default}; `$${...}` escapes a literal `${...}`.
_VARIABLE = re.compile(r"\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


@dataclass(frozen=True)
class SourceError:
    """One problem in a source file, located by key path and line."""

    location: Location
    line: int | None
    message: str

    def render(self, path: Path | str) -> str:
        where = f"{path}:{self.line}" if self.line is not None else str(path)
        key = ".".join(str(part) for part in self.location) or "(top level)"
        return f"{where}: {key}: {self.message}"


@dataclass
class LoadedYaml:
    data: Any
    lines: dict[Location, int] = field(default_factory=dict)
    errors: list[SourceError] = field(default_factory=list)

    def line_of(self, location: Location) -> int | None:
        """The line of the deepest known key on `location` (1-based)."""
        for end in range(len(location), -1, -1):
            line = self.lines.get(tuple(location[:end]))
            if line is not None:
                return line
        return None


def load_yaml(text: str, environ: Mapping[str, str]) -> LoadedYaml:
    """Parse one YAML document, interpolating `${VAR}` in string scalars from `environ`."""
    result = LoadedYaml(data=None)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        result.errors.append(SourceError((), line, f"not valid YAML: {exc.problem}"))
        return result
    except yaml.YAMLError as exc:
        # The reader refuses control characters (e.g. NUL) before any mark exists.
        position = getattr(exc, "position", None)
        line = text.count("\n", 0, position) + 1 if isinstance(position, int) else None
        reason = getattr(exc, "reason", "unreadable text")
        result.errors.append(SourceError((), line, f"not valid YAML: {reason}"))
        return result
    if node is None:
        result.data = {}
        return result
    result.data = _construct(node, (), result, environ)
    return result


def _construct(node: yaml.Node, loc: Location, out: LoadedYaml, environ: Mapping[str, str]) -> Any:
    out.lines.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        mapping: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = yaml.SafeLoader(stream="").construct_object(key_node)
            if key in mapping:
                out.errors.append(
                    SourceError((*loc, key), key_node.start_mark.line + 1, "duplicate key")
                )
            out.lines[(*loc, key)] = key_node.start_mark.line + 1
            mapping[key] = _construct(value_node, (*loc, key), out, environ)
        return mapping
    if isinstance(node, yaml.SequenceNode):
        return [
            _construct(item, (*loc, index), out, environ) for index, item in enumerate(node.value)
        ]
    value = yaml.SafeLoader(stream="").construct_object(node)
    if isinstance(value, str) and "$" in value:
        return _interpolate(value, loc, node.start_mark.line + 1, out, environ)
    return value


def _interpolate(
    value: str, loc: Location, line: int, out: LoadedYaml, environ: Mapping[str, str]
) -> str:
    def replace(match: re.Match[str]) -> str:
        escaped, name, default = match.groups()
        if escaped:
            return match.group(0)[1:]
        if name in environ:
            return environ[name]
        if default is not None:
            return default
        out.errors.append(
            SourceError(loc, line, f"environment variable {name} is not set (used as ${{{name}}})")
        )
        return ""

    return _VARIABLE.sub(replace, value)
