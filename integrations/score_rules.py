"""The rules of a Score workload (`score.dev/v1b1`) that the bot relies on, checked in code.

They are the official schema's rules for what the bot reads: the apiVersion, the names of the
workload, containers, ports and resources (RFC 1123 labels of 2 to 63 characters, as the
schema has them), the form of a resource's `type`, `class` and `id`, at least one container
with an image, variables as text, ports in range, and no field Score does not know where Score
allows none. They hold without the spec directory, which is not shipped; the contract tests
check that they agree with the schema. Problems are (field path, plain reason) pairs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from integrations.catalog_rules import shown
from integrations.score_schema import field_path

API_VERSION = "score.dev/v1b1"

# The schema's patterns; lengths are checked before matching, so no match runs on long text.
_LABEL = re.compile(r"[a-z0-9][a-z0-9-]{0,61}[a-z0-9]")
_TYPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,61}[A-Za-z0-9]")
_ID = re.compile(r"[a-z0-9]+(?:-+[a-z0-9]+)*(?:\.[a-z0-9]+(?:-+[a-z0-9]+)*)*")
_LABEL_RULE = (
    "must be 2 to 63 characters of lowercase letters, digits and '-', "
    "starting and ending with a letter or digit"
)
_TYPE_RULE = (
    "must be 2 to 63 characters of letters, digits and '-', "
    "starting and ending with a letter or digit"
)
_ID_RULE = "must be 2 to 63 characters: lowercase words of letters and digits joined by '-' or '.'"
_TOP_FIELDS = frozenset({"apiVersion", "metadata", "service", "containers", "resources"})
_CONTAINER_FIELDS = frozenset(
    {
        "image",
        "command",
        "args",
        "variables",
        "files",
        "volumes",
        "before",
        "resources",
        "livenessProbe",
        "readinessProbe",
    }
)
_RESOURCE_FIELDS = frozenset({"type", "class", "id", "metadata", "params"})
_PORT_FIELDS = frozenset({"port", "protocol", "targetPort"})


def _join(path: str, *names: object) -> str:
    """`path` (a field path already) with `names` added, each cut short."""
    added = field_path(names)
    return f"{path}.{added}" if path else added


def _fits(pattern: re.Pattern[str], value: object, max_length: int = 63) -> bool:
    return (
        isinstance(value, str) and 2 <= len(value) <= max_length and bool(pattern.fullmatch(value))
    )


class _Checks:
    """The rules, each broken one recorded as a (path, reason) pair."""

    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []

    def add(self, path: str, reason: str) -> None:
        self.problems.append((path, reason))

    def run(self, document: Any) -> list[tuple[str, str]]:
        if not isinstance(document, dict):
            self.add("", "not a mapping (expected apiVersion, metadata and containers)")
            return self.problems
        self.known_fields("", document, _TOP_FIELDS)
        if "apiVersion" not in document:
            self.add("apiVersion", f"is missing (the bot reads {API_VERSION})")
        elif document["apiVersion"] != API_VERSION:
            self.add(
                "apiVersion", f"is {shown(document['apiVersion'])}; the bot reads {API_VERSION}"
            )
        metadata = self.mapping("metadata", document, required=True)
        if metadata is not None:
            if "name" not in metadata:
                self.add("metadata.name", "is missing")
            elif not _fits(_LABEL, metadata["name"]):
                self.add("metadata.name", f"is {shown(metadata['name'])}; it {_LABEL_RULE}")
        for name, container in self.entries("containers", document, required=True):
            self.container(_join("containers", name), container)
        service = self.mapping("service", document)
        if service is not None:
            self.known_fields("service", service, frozenset({"ports"}))
            for name, port in self.entries("service.ports", service, key="ports"):
                self.port(_join("service.ports", name), port)
        for name, resource in self.entries("resources", document):
            self.resource(_join("resources", name), resource)
        return self.problems

    def mapping(
        self, path: str, parent: dict[Any, Any], *, key: str = "", required: bool = False
    ) -> dict[Any, Any] | None:
        key = key or path.rsplit(".", 1)[-1]
        if key not in parent:
            if required:
                self.add(path, "is missing")
            return None
        found = parent[key]
        if not isinstance(found, dict):
            self.add(path, "must be a mapping (name: value)")
            return None
        return found

    def entries(
        self, path: str, parent: dict[Any, Any], *, key: str = "", required: bool = False
    ) -> Iterator[tuple[str, dict[Any, Any]]]:
        """The named entries of a mapping whose names are labels and values mappings."""
        found = self.mapping(path, parent, key=key, required=required)
        if found is None:
            return
        if required and not found:
            self.add(path, "must name at least one entry")
        for name, value in found.items():
            where = _join(path, name)
            if not _fits(_LABEL, name):
                self.add(where, f"the name {_LABEL_RULE}")
            elif not isinstance(value, dict):
                self.add(where, "must be a mapping of its fields")
            else:
                yield name, value

    def known_fields(self, path: str, found: dict[Any, Any], known: frozenset[str]) -> None:
        for key in found:
            if key not in known:
                self.add(_join(path, key), "is not a field Score knows here")

    def container(self, path: str, container: dict[Any, Any]) -> None:
        self.known_fields(path, container, _CONTAINER_FIELDS)
        if "image" not in container:
            self.add(_join(path, "image"), "is missing")
        elif not (isinstance(container["image"], str) and container["image"]):
            self.add(_join(path, "image"), "must be text, not empty")
        variables = self.mapping(_join(path, "variables"), container, key="variables")
        for variable, value in (variables or {}).items():
            where = _join(path, "variables", variable)
            if not isinstance(variable, str) or not variable or "=" in variable:
                self.add(where, "the name must be text without '='")
            elif not isinstance(value, str):
                self.add(where, "must be text (quote numbers and true/false in YAML)")

    def port(self, path: str, port: dict[Any, Any]) -> None:
        self.known_fields(path, port, _PORT_FIELDS)
        for key in ("port", "targetPort"):
            value = port.get(key)
            if (key in port or key == "port") and (
                type(value) is not int or not 1 <= value <= 65535
            ):
                self.add(_join(path, key), "must be a whole number from 1 to 65535")
        if port.get("protocol", "TCP") not in ("TCP", "UDP"):
            self.add(_join(path, "protocol"), "must be TCP or UDP")

    def resource(self, path: str, resource: dict[Any, Any]) -> None:
        self.known_fields(path, resource, _RESOURCE_FIELDS)
        if "type" not in resource:
            self.add(_join(path, "type"), "is missing")
        forms = (("type", _TYPE, _TYPE_RULE), ("class", _TYPE, _TYPE_RULE), ("id", _ID, _ID_RULE))
        for key, pattern, rule in forms:
            if key in resource and not _fits(pattern, resource[key]):
                self.add(_join(path, key), f"is {shown(resource[key])}; it {rule}")
        for key in ("params", "metadata"):
            if key in resource and not isinstance(resource[key], dict):
                self.add(_join(path, key), "must be a mapping (name: value)")


def check_workload(document: Any) -> list[tuple[str, str]]:
    """Every (path, reason) of the bot's rules that `document` breaks; empty when it is fine."""
    return _Checks().run(document)
