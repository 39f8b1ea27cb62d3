"""Reading Backstage catalog entities (`catalog-info.yaml` documents or API answers).

The checks follow Backstage: the entity envelope and metadata schemas (as pydantic models;
the contract tests check that they agree with the official JSON schemas), the field rules
the catalog enforces in code (`catalog_rules`, with Backstage's messages), the built-in kinds
a processor recognises (anything else is "No processor recognized the entity …"), the
required `spec` fields of each kind, and every entity reference in `spec` parsed as
`parseEntityRef` would (`catalog_refs`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from integrations.catalog_refs import RefInvalid, spec_relations
from integrations.catalog_rules import EntityInvalid, check_field_formats
from integrations.protocols import CatalogEntity, EntityLink, EntityRelation

__all__ = ["BUILTIN_KINDS", "EntityInvalid", "parse_entity"]

_CORE_VERSIONS = frozenset({"backstage.io/v1alpha1", "backstage.io/v1beta1"})
# The kinds BuiltinKindsEntityProcessor recognises, as written in `kind:` (case matters),
# with the apiVersions their schemas accept.
BUILTIN_KINDS: dict[str, frozenset[str]] = {
    "Component": _CORE_VERSIONS,
    "API": _CORE_VERSIONS,
    "Resource": _CORE_VERSIONS,
    "System": _CORE_VERSIONS,
    "Domain": _CORE_VERSIONS,
    "Group": _CORE_VERSIONS,
    "User": _CORE_VERSIONS,
    "Location": _CORE_VERSIONS,
    "Template": frozenset({"scaffolder.backstage.io/v1beta3"}),
}
# Required spec fields of each kind (kinds/*.schema.json, Template.v1beta3.schema.json).
REQUIRED_SPEC: dict[str, tuple[str, ...]] = {
    "component": ("type", "lifecycle", "owner"),
    "api": ("type", "lifecycle", "owner", "definition"),
    "resource": ("type", "owner"),
    "system": ("owner",),
    "domain": ("owner",),
    "group": ("type", "children"),
    "user": ("memberOf",),
    "location": (),
    "template": ("type", "steps"),
}
# Spec fields that must be lists of entity references when present.
_LIST_FIELDS = (
    "children",
    "members",
    "memberOf",
    "dependsOn",
    "dependencyOf",
    "providesApis",
    "consumesApis",
)
_STRING_FIELDS = (
    "type",
    "lifecycle",
    "owner",
    "system",
    "domain",
    "parent",
    "subcomponentOf",
    "subdomainOf",
)


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
    namespace: str | None = None
    title: str | None = Field(default=None, min_length=1)
    description: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)
    links: list[_Link] = Field(default_factory=list)


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
    meta = envelope.metadata
    check_field_formats(
        api_version=envelope.apiVersion,
        kind=envelope.kind,
        name=meta.name,
        namespace=meta.namespace,
        labels=meta.labels,
        annotations=meta.annotations,
        tags=meta.tags,
        links=[link.model_dump() for link in meta.links],
    )
    kind, namespace = envelope.kind.lower(), meta.namespace or "default"
    if envelope.apiVersion not in BUILTIN_KINDS.get(envelope.kind, ()):
        raise EntityInvalid(
            f"No processor recognized the entity {kind}:{namespace}/{meta.name.lower()} as "
            "valid, possibly caused by a foreign kind or apiVersion"
        )
    _check_spec(envelope, kind, document)
    try:
        for _ in spec_relations(kind, namespace, envelope.spec):
            pass  # every reference must parse, as Backstage's processor would emit it
    except RefInvalid as exc:
        raise EntityInvalid(str(exc)) from None
    return CatalogEntity(
        kind=kind,
        namespace=namespace,
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


def _check_spec(envelope: _Envelope, kind: str, document: Mapping[str, Any]) -> None:
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
