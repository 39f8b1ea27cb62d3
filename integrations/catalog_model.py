"""Reading Backstage catalog entities (`catalog-info.yaml` documents or API answers).

The checks follow Backstage's entity schemas (envelope, metadata and the required `spec`
fields of each known kind) plus the naming rules the catalog enforces in code (names are
1-63 characters of `[A-Za-z0-9-_.]`, starting and ending with a letter or digit). They are
written as pydantic models rather than shipping the JSON schemas; the contract tests check
that they agree with the official schemas.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from integrations.protocols import CatalogEntity, EntityLink, EntityRelation

NAME_PATTERN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$")
KNOWN_API_VERSIONS = frozenset({"backstage.io/v1alpha1", "backstage.io/v1beta1"})
# Required spec fields of the kinds in Backstage's catalog model (kinds/*.schema.json).
REQUIRED_SPEC: dict[str, tuple[str, ...]] = {
    "component": ("type", "lifecycle", "owner"),
    "api": ("type", "lifecycle", "owner", "definition"),
    "resource": ("type", "owner"),
    "system": ("owner",),
    "domain": ("owner",),
    "group": ("type", "children"),
    "user": ("memberOf",),
    "location": (),
}
# Spec fields that must be lists of entity references when present.
_LIST_FIELDS = ("children", "members", "memberOf", "dependsOn", "providesApis", "consumesApis")
_STRING_FIELDS = ("type", "lifecycle", "owner", "system", "domain", "parent", "subcomponentOf")


class EntityInvalid(ValueError):
    """A document is not a valid entity; the message says which field and why."""


class _Link(BaseModel):
    model_config = ConfigDict(extra="allow")
    url: str = Field(min_length=1)
    title: str | None = Field(default=None, min_length=1)
    icon: str | None = Field(default=None, min_length=1)
    type: str | None = Field(default=None, min_length=1)


class _Relation(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str = Field(min_length=1)
    targetRef: str = Field(min_length=1)


class _Meta(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str
    namespace: str = "default"
    title: str | None = Field(default=None, min_length=1)
    description: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)
    links: list[_Link] = Field(default_factory=list)

    @field_validator("name", "namespace")
    @classmethod
    def _entity_name(cls, value: str) -> str:
        if not NAME_PATTERN.fullmatch(value):
            raise ValueError(
                f"{value!r} is not a valid name: 1-63 letters, digits, '-', '_' or '.', "
                "starting and ending with a letter or digit"
            )
        return value


class _Envelope(BaseModel):
    model_config = ConfigDict(extra="forbid")
    apiVersion: str = Field(min_length=1)
    kind: str = Field(min_length=1)
    metadata: _Meta
    spec: dict[str, Any] = Field(default_factory=dict)
    relations: list[_Relation] = Field(default_factory=list)
    status: dict[str, Any] | None = None


def parse_entity(document: Any, *, source: str | None = None) -> CatalogEntity:
    """A validated `CatalogEntity` from one YAML/JSON document; `EntityInvalid` otherwise."""
    if not isinstance(document, Mapping):
        raise EntityInvalid("the document is not a mapping (expected apiVersion, kind, metadata)")
    try:
        envelope = _Envelope.model_validate(document)
    except ValidationError as exc:
        raise EntityInvalid(_first_problem(exc)) from None
    kind = envelope.kind.lower()
    if kind in REQUIRED_SPEC:
        _check_known_kind(envelope, kind, document)
    meta = envelope.metadata
    return CatalogEntity(
        kind=kind,
        namespace=meta.namespace.lower(),
        name=meta.name,
        title=meta.title,
        description=meta.description,
        tags=tuple(meta.tags),
        labels=dict(meta.labels),
        annotations=dict(meta.annotations),
        links=tuple(
            EntityLink(url=link.url, title=link.title, icon=link.icon, type=link.type)
            for link in meta.links
        ),
        spec=dict(envelope.spec),
        relations=tuple(EntityRelation(r.type, r.targetRef.lower()) for r in envelope.relations),
        source=source,
    )


def _check_known_kind(envelope: _Envelope, kind: str, document: Mapping[str, Any]) -> None:
    if envelope.apiVersion not in KNOWN_API_VERSIONS:
        raise EntityInvalid(
            f"apiVersion {envelope.apiVersion!r} is not one of "
            f"{', '.join(sorted(KNOWN_API_VERSIONS))} for kind {envelope.kind}"
        )
    if "spec" not in document:
        raise EntityInvalid(f"spec: required for kind {envelope.kind}")
    spec = envelope.spec
    for key in REQUIRED_SPEC[kind]:
        if key not in spec:
            raise EntityInvalid(f"spec.{key}: required for kind {envelope.kind}")
    for key in _STRING_FIELDS:
        if key in spec and not (isinstance(spec[key], str) and spec[key]):
            raise EntityInvalid(f"spec.{key}: must be a non-empty string")
    for key in _LIST_FIELDS:
        if key in spec and not (
            isinstance(spec[key], list) and all(isinstance(v, str) and v for v in spec[key])
        ):
            raise EntityInvalid(f"spec.{key}: must be a list of entity references")


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors(include_url=False)[0]
    where = ".".join(str(part) for part in error["loc"]) or "document"
    if error["type"] == "extra_forbidden":
        return f"{where}: unknown top-level field"
    return f"{where}: {error['msg']}"


def parse_ref(
    text: str, *, default_kind: str, default_namespace: str = "default"
) -> tuple[str, str, str]:
    """Split `[kind:][namespace/]name` into lowercase (kind, namespace, name)."""
    kind, sep, rest = text.strip().partition(":")
    if not sep:
        kind, rest = default_kind, kind
    namespace, sep, name = rest.partition("/")
    if not sep:
        namespace, name = default_namespace, namespace
    return kind.lower(), namespace.lower(), name.lower()


def full_ref(text: str, *, default_kind: str, default_namespace: str = "default") -> str:
    """`payments` → `group:default/payments` (with default_kind "group")."""
    kind, namespace, name = parse_ref(
        text, default_kind=default_kind, default_namespace=default_namespace
    )
    return f"{kind}:{namespace}/{name}"
