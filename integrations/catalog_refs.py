"""Entity references as Backstage reads them, and the relations an entity's spec declares.

`parse_entity_ref` follows `parseEntityRef` of @backstage/catalog-model: `[kind:][namespace/]
name`, where a `/` before the first `:` means there is no kind, the name is everything after
the kind and namespace (it may hold `:` or `/`), and missing parts come from the context:
the field's default kind and the namespace of the entity that wrote the reference. So
`owner: payments` on an entity in namespace `foo` is `group:foo/payments`, not the `default`
namespace's team of the same name.

`SPEC_RELATIONS` is the table of BuiltinKindsEntityProcessor: for each built-in kind, which
spec fields are references, the relation each one emits (and its inverse), and the field's
default kind (`dependsOn` has none: its references must name their kind).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

DEFAULT_NAMESPACE = "default"
_SHOWN = 80


class RefInvalid(ValueError):
    """A reference Backstage could not parse; the message is Backstage's."""


class SpecRelation(NamedTuple):
    field: str
    type: str
    inverse: str
    default_kind: str | None


def _quoted(ref: str) -> str:
    return json.dumps(ref if len(ref) <= _SHOWN else ref[:_SHOWN] + "…", ensure_ascii=False)


def parse_entity_ref(
    ref: str, *, default_kind: str | None, default_namespace: str = DEFAULT_NAMESPACE
) -> tuple[str, str, str]:
    """(kind, namespace, name), lowercased as Backstage compares them; RefInvalid if malformed."""
    if not ref:
        raise RefInvalid("Entity reference must not be empty")
    colon = ref.find(":")
    slash = ref.find("/")
    if slash != -1 and slash < colon:
        colon = -1  # the `:` belongs to the name
    kind = None if colon == -1 else ref[:colon]
    namespace = None if slash == -1 else ref[colon + 1 : slash]
    name = ref[max(colon + 1, slash + 1) :]
    if kind == "" or namespace == "" or name == "":
        raise RefInvalid(
            f"Entity reference {_quoted(ref)} was not on the form [<kind>:][<namespace>/]<name>"
        )
    kind = kind or default_kind
    if not kind:
        raise RefInvalid(
            f"Entity reference {_quoted(ref)} had missing or empty kind "
            '(e.g. did not start with "component:" or similar)'
        )
    namespace = namespace or default_namespace
    return kind.lower(), namespace.lower(), name.lower()


def full_ref(
    ref: str, *, default_kind: str | None, default_namespace: str = DEFAULT_NAMESPACE
) -> str:
    """`payments` → `group:default/payments` (with default_kind "group"); RefInvalid if bad."""
    kind, namespace, name = parse_entity_ref(
        ref, default_kind=default_kind, default_namespace=default_namespace
    )
    return f"{kind}:{namespace}/{name}"


_OWNER = SpecRelation("owner", "ownedBy", "ownerOf", "group")
_SYSTEM = SpecRelation("system", "partOf", "hasPart", "system")
_DEPENDS_ON = SpecRelation("dependsOn", "dependsOn", "dependencyOf", None)
SPEC_RELATIONS: dict[str, tuple[SpecRelation, ...]] = {
    "component": (
        _OWNER,
        SpecRelation("subcomponentOf", "partOf", "hasPart", "component"),
        SpecRelation("providesApis", "providesApi", "apiProvidedBy", "api"),
        SpecRelation("consumesApis", "consumesApi", "apiConsumedBy", "api"),
        _DEPENDS_ON,
        _SYSTEM,
    ),
    "api": (_OWNER, _SYSTEM),
    "resource": (
        _OWNER,
        _DEPENDS_ON,
        SpecRelation("dependencyOf", "dependencyOf", "dependsOn", None),
        _SYSTEM,
    ),
    "user": (SpecRelation("memberOf", "memberOf", "hasMember", "group"),),
    "group": (
        SpecRelation("parent", "childOf", "parentOf", "group"),
        SpecRelation("children", "parentOf", "childOf", "group"),
        SpecRelation("members", "hasMember", "memberOf", "user"),
    ),
    "system": (_OWNER, SpecRelation("domain", "partOf", "hasPart", "domain")),
    "domain": (_OWNER, SpecRelation("subdomainOf", "partOf", "hasPart", "domain")),
    "template": (_OWNER,),
}


def spec_relations(
    kind: str, namespace: str, spec: Mapping[str, Any]
) -> Iterator[tuple[SpecRelation, str]]:
    """Each reference in `spec` as (relation, full target ref); RefInvalid names the field."""
    for relation in SPEC_RELATIONS.get(kind.lower(), ()):
        value = spec.get(relation.field)
        targets = value if isinstance(value, list) else [value]
        for target in targets:
            if not isinstance(target, str) or not target:
                continue  # absent; the kind's own checks report a wrong type
            try:
                yield (
                    relation,
                    full_ref(
                        target, default_kind=relation.default_kind, default_namespace=namespace
                    ),
                )
            except RefInvalid as exc:
                raise RefInvalid(f"spec.{relation.field}: {exc}") from None
