"""catalog-info.yaml files: the example catalog, bad files, and agreement with Backstage's
official entity schemas (draft-07, from @backstage/catalog-model)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from integrations.catalog_files import CatalogFiles
from integrations.catalog_model import EntityInvalid, parse_entity
from integrations.errors import ProviderUnavailable
from tests.conftest import REPO_ROOT, SPECS_DIR

EXAMPLE = REPO_ROOT / "examples" / "catalog"
SCHEMA_DIR = SPECS_DIR / "backstage" / "catalog-model-schema"


@pytest.fixture(scope="module")
def official() -> dict[str, jsonschema.Draft7Validator]:
    """A validator per kind, from Backstage's own JSON schemas."""
    if not SCHEMA_DIR.is_dir():
        pytest.skip(f"Backstage's entity schemas are not at {SCHEMA_DIR}")
    resources = []
    for path in SCHEMA_DIR.rglob("*.schema.json"):
        contents = json.loads(path.read_text())
        resources.append((contents["$id"], Resource.from_contents(contents, DRAFT7)))
    registry: Registry[Any] = Registry().with_resources(resources)
    validators = {}
    for path in (SCHEMA_DIR / "kinds").glob("*.schema.json"):
        contents = json.loads(path.read_text())
        kind = path.name.split(".")[0].lower()
        validators[kind] = jsonschema.Draft7Validator(contents, registry=registry)
    validators["entity"] = jsonschema.Draft7Validator(
        registry["Entity"].contents, registry=registry
    )
    return validators


def _documents() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted(EXAMPLE.rglob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if "kind" not in document:
                continue  # an entity's data, e.g. an OpenAPI definition it reads with $text
            where = f"{path.relative_to(EXAMPLE)}:{document['metadata']['name']}"
            found.append((where, _with_placeholders_read(document, path.parent)))
    return found


def _with_placeholders_read(node: Any, folder: Path) -> Any:
    """The document as Backstage validates it: `{$text: ./file}` replaced by the file's text."""
    if isinstance(node, dict):
        if list(node) == ["$text"]:
            return (folder / node["$text"]).read_text()
        return {key: _with_placeholders_read(value, folder) for key, value in node.items()}
    if isinstance(node, list):
        return [_with_placeholders_read(item, folder) for item in node]
    return node


def test_the_example_catalog_reads_without_problems() -> None:
    snapshot = CatalogFiles(EXAMPLE).fetch_all()
    assert snapshot.problems == ()
    refs = {e.ref for e in snapshot.entities}
    assert {"component:default/payments-api", "component:default/orders-api",
            "component:default/search-service", "group:default/payments",
            "user:default/carol"} <= refs  # fmt: skip


@pytest.mark.parametrize(
    ("where", "document"), _documents(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_example_entity_is_valid_by_backstages_schemas(
    official: dict[str, jsonschema.Draft7Validator], where: str, document: dict[str, Any]
) -> None:
    official[document["kind"].lower()].validate(document)


def _component(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {"name": "orders"},
        "spec": {"type": "service", "lifecycle": "production", "owner": "team-a"},
    }
    for key, value in changes.items():
        section, _, field = key.partition("__")
        if not field:
            document[section] = value
        elif value is None:
            del document[section][field]
        else:
            document[section][field] = value
    return document


CASES = [
    _component(),
    _component(spec__owner=None),
    _component(spec__lifecycle=None),
    _component(spec__type=""),
    _component(metadata__title=""),
    _component(metadata__tags=["a", "b"]),
    _component(metadata__links=[{"url": "https://x.example", "title": "X"}]),
    _component(metadata__links=[{"title": "no url"}]),
    _component(spec__providesApis=["api-a"]),
    {"apiVersion": "backstage.io/v1alpha1", "kind": "Group", "metadata": {"name": "team-a"},
     "spec": {"type": "team", "children": []}},
    {"apiVersion": "backstage.io/v1alpha1", "kind": "Group", "metadata": {"name": "team-a"},
     "spec": {"type": "team"}},
    {"apiVersion": "backstage.io/v1alpha1", "kind": "User", "metadata": {"name": "jo"},
     "spec": {"memberOf": ["team-a"]}},
    {"apiVersion": "backstage.io/v1alpha1", "kind": "User", "metadata": {"name": "jo"}, "spec": {}},
    {"apiVersion": "backstage.io/v1alpha1", "kind": "System", "metadata": {"name": "s"}},
    {"apiVersion": "backstage.io/v1alpha1", "kind": "Component", "spec": {}},
]  # fmt: skip


@pytest.mark.parametrize("document", CASES)
def test_our_checks_agree_with_the_official_schemas(
    official: dict[str, jsonschema.Draft7Validator], document: dict[str, Any]
) -> None:
    validator = official.get(document["kind"].lower(), official["entity"])
    official_ok = validator.is_valid(document)
    try:
        parse_entity(document)
        ours_ok = True
    except EntityInvalid:
        ours_ok = False
    assert ours_ok == official_ok


def test_names_follow_the_catalogs_naming_rule_that_the_schema_does_not_check() -> None:
    with pytest.raises(EntityInvalid, match=r"\"metadata.name\" is not valid"):
        parse_entity(_component(metadata__name="Orders Service!"))


def test_a_bad_file_is_reported_with_its_path_and_reason_and_the_rest_is_read(
    tmp_path: Path,
) -> None:
    (tmp_path / "good").mkdir()
    (tmp_path / "good" / "catalog-info.yaml").write_text(yaml.safe_dump(_component()))
    (tmp_path / "broken.yaml").write_text("apiVersion: backstage.io/v1alpha1\nkind: [oops\n")
    (tmp_path / "multi.yml").write_text(
        yaml.safe_dump(_component(metadata__name="billing"))
        + "---\n"
        + yaml.safe_dump(_component(metadata__name="refunds", spec__owner=None))
        + "---\n"
        + yaml.safe_dump(_component())  # the same entity as good/catalog-info.yaml
        + "---\n"
        + "- just\n- a list\n"
    )
    (tmp_path / "notes.txt").write_text("not read")

    snapshot = CatalogFiles(tmp_path).fetch_all()

    assert sorted(e.name for e in snapshot.entities) == ["billing", "orders"]
    reasons = {p.source: p.reason for p in snapshot.problems}
    assert reasons["broken.yaml"].startswith("not valid YAML at line 3: ")
    assert reasons["multi.yml#2"] == "spec.owner: required for kind Component"
    assert (
        "component:default/orders is already defined in good/catalog-info.yaml"
        in (reasons["multi.yml#3"])
    )
    assert "not a mapping" in reasons["multi.yml#4"]


def test_a_missing_directory_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(ProviderUnavailable, match="is not a directory"):
        CatalogFiles(tmp_path / "missing").fetch_all()


_NAMESPACE_RULE = (
    "a string that is sequences of [a-z0-9] separated by [-], at most 63 characters in total"
)
_NAME_RULE = (
    "a string that is sequences of [a-zA-Z0-9] separated by any of [-_.], "
    "at most 63 characters in total"
)
_TAG_RULE = (
    "a string that is sequences of [a-z0-9+#] separated by [-], at most 63 characters in total"
)


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        (_component(metadata__namespace="Payments"),
         f'"metadata.namespace" is not valid; expected {_NAMESPACE_RULE} but found "Payments".'),
        (_component(metadata__namespace="team_a"),
         f'"metadata.namespace" is not valid; expected {_NAMESPACE_RULE} but found "team_a".'),
        (_component(metadata__namespace="a" * 64),
         f'"metadata.namespace" is not valid; expected {_NAMESPACE_RULE} but found "{"a" * 64}".'),
        (_component(metadata__name="Orders Service!"),
         f'"metadata.name" is not valid; expected {_NAME_RULE} but found "Orders Service!".'),
        (_component(metadata__name="o" * 64),
         f'"metadata.name" is not valid; expected {_NAME_RULE} but found "{"o" * 64}".'),
        (_component(metadata__name="orders-"),
         f'"metadata.name" is not valid; expected {_NAME_RULE} but found "orders-".'),
        (_component(metadata__tags=["python", "Java"]),
         f'"tags.1" is not valid; expected {_TAG_RULE} but found "Java".'),
        (_component(metadata__tags=["two words"]),
         f'"tags.0" is not valid; expected {_TAG_RULE} but found "two words".'),
        (_component(metadata__labels={"team owner": "orders"}),
         '"labels.team owner" is not valid; expected a valid prefix and/or suffix but found '
         '"team owner".'),
        (_component(metadata__labels={"tier": "gold plated"}),
         f'"labels.tier" is not valid; expected {_NAME_RULE} but found "gold plated".'),
        (_component(metadata__annotations={"acme.io/team/slack": "#orders"}),
         '"annotations.acme.io/team/slack" is not valid; expected a valid prefix and/or suffix '
         'but found "acme.io/team/slack".'),
        (_component(metadata__annotations={"Acme.io/team": "orders"}),
         '"annotations.Acme.io/team" is not valid; expected a valid prefix and/or suffix '
         'but found "Acme.io/team".'),
        (_component(metadata__links=[{"url": "docs/orders.md", "title": "Docs"}]),
         '"links.0.url" is not valid; expected a string that is a valid url but found '
         '"docs/orders.md".'),
        (_component(metadata__links=[{"url": "https://docs.example", "title": "  "}]),
         '"links.0.title" is not valid; expected a non empty string but found "  ".'),
        (_component(kind="Widget"),
         "No processor recognized the entity widget:default/orders as valid, possibly caused "
         "by a foreign kind or apiVersion"),
        (_component(kind="component"),
         "No processor recognized the entity component:default/orders as valid, possibly "
         "caused by a foreign kind or apiVersion"),
        (_component(apiVersion="backstage.io/v2"),
         "No processor recognized the entity component:default/orders as valid, possibly "
         "caused by a foreign kind or apiVersion"),
        (_component(kind="Service Thing"),
         '"kind" is not valid; expected a string that is a sequence of [a-zA-Z][a-z0-9A-Z], '
         'at most 63 characters in total but found "Service Thing".'),
        (_component(spec__owner="group:"),
         'spec.owner: Entity reference "group:" was not on the form '
         "[<kind>:][<namespace>/]<name>"),
        (_component(spec__dependsOn=["resource:orders-db", "orders-cache"]),
         'spec.dependsOn: Entity reference "orders-cache" had missing or empty kind (e.g. did '
         'not start with "component:" or similar)'),
    ],
)  # fmt: skip
def test_entities_backstage_rejects_are_skipped_with_backstages_reason(
    tmp_path: Path, document: dict[str, Any], reason: str
) -> None:
    (tmp_path / "catalog-info.yaml").write_text(
        yaml.safe_dump(_component(metadata__name="billing")) + "---\n" + yaml.safe_dump(document)
    )
    snapshot = CatalogFiles(tmp_path).fetch_all()
    assert [e.name for e in snapshot.entities] == ["billing"]
    assert [(p.source, p.reason) for p in snapshot.problems] == [("catalog-info.yaml#2", reason)]


@pytest.mark.parametrize(
    "document",
    [
        _component(metadata__namespace="team-a"),
        _component(metadata__namespace="a" * 63),
        _component(metadata__name="o" * 63),
        _component(metadata__name="Orders_v2.internal"),
        _component(metadata__tags=["c++", "c#", "k8s:prod", "go-1-22"]),
        _component(metadata__labels={"tier": "", "acme.io/team": "orders"}),
        _component(metadata__annotations={"backstage.io/techdocs-ref": "dir:.", "a": ""}),
        _component(metadata__links=[{"url": "mailto:orders@acme.example", "icon": "email"}]),
        _component(spec__dependsOn=["resource:orders-db", "component:other/orders-cache"]),
        _component(apiVersion="backstage.io/v1beta1"),
        {"apiVersion": "scaffolder.backstage.io/v1beta3", "kind": "Template",
         "metadata": {"name": "python-service", "title": "Python service"},
         "spec": {"type": "service", "owner": "platform", "steps": [{"action": "fetch:plain"}]}},
    ],
)  # fmt: skip
def test_entities_backstage_accepts_are_read(document: dict[str, Any]) -> None:
    parse_entity(document)


_OPENAPI = """\
openapi: 3.0.3
info: {title: Payments, version: 2.4.0}
paths:
  /payments:
    post: {responses: {"201": {description: created}}}
"""
_ASYNCAPI = "asyncapi: 2.6.0\ninfo: {title: Payment events, version: 1.0.0}\nchannels: {}\n"


def _api(name: str, definition: Any) -> dict[str, Any]:
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "API",
        "metadata": {"name": name},
        "spec": {"type": "openapi", "lifecycle": "production", "owner": "payments",
                 "definition": definition},
    }  # fmt: skip


def test_files_referenced_by_text_json_or_yaml_placeholders_are_not_entities(
    tmp_path: Path,
) -> None:
    service = tmp_path / "payments-api"
    (service / "api").mkdir(parents=True)
    (service / "api" / "openapi.yaml").write_text(_OPENAPI)
    (service / "api" / "events.yml").write_text(_ASYNCAPI)
    (service / "catalog-info.yaml").write_text(
        yaml.safe_dump_all([
            _component(metadata__name="payments-api"),
            _api("payments-rest", {"$text": "./api/openapi.yaml"}),
            _api("payment-events", {"$yaml": "api/events.yml"}),
            _api("payments-grpc", {"$text": "https://github.com/acme/protos/blob/main/p.proto"}),
        ])
    )  # fmt: skip
    (tmp_path / "stray.yaml").write_text("name: not an entity, and nobody points to it\n")

    snapshot = CatalogFiles(tmp_path).fetch_all()

    assert sorted(e.name for e in snapshot.entities) == [
        "payment-events", "payments-api", "payments-grpc", "payments-rest"
    ]  # fmt: skip
    # Only the file nothing refers to is still reported.
    assert [p.source for p in snapshot.problems] == ["stray.yaml"]


def _location(*targets: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Location",
        "metadata": {"name": "acme-catalog"},
        "spec": {"targets": list(targets), **spec},
    }


def test_with_backstage_style_globs_only_what_a_location_points_to_is_read(
    tmp_path: Path,
) -> None:
    (tmp_path / "org").mkdir()
    (tmp_path / "services" / "orders").mkdir(parents=True)
    (tmp_path / "services" / "billing").mkdir(parents=True)
    (tmp_path / "drafts").mkdir()
    (tmp_path / "catalog-info.yaml").write_text(
        yaml.safe_dump(
            _location("./org/teams.yaml", "./services/*/service.yaml", "./org/missing.yaml",
                      "../outside.yaml", "https://github.com/acme/infra/blob/main/catalog.yaml")
        )
    )  # fmt: skip
    (tmp_path / "org" / "teams.yaml").write_text(
        yaml.safe_dump({"apiVersion": "backstage.io/v1alpha1", "kind": "Group",
                        "metadata": {"name": "team-a"}, "spec": {"type": "team", "children": []}})
    )  # fmt: skip
    (tmp_path / "services" / "orders" / "service.yaml").write_text(yaml.safe_dump(_component()))
    (tmp_path / "services" / "billing" / "service.yaml").write_text(
        yaml.safe_dump(_component(metadata__name="billing"))
    )
    (tmp_path / "drafts" / "half-done.yaml").write_text("kind: Component\n")
    (tmp_path.parent / "outside.yaml").write_text(yaml.safe_dump(_component(metadata__name="x")))

    snapshot = CatalogFiles(tmp_path, globs=["**/catalog-info.yaml"]).fetch_all()

    assert sorted(e.ref for e in snapshot.entities) == [
        "component:default/billing", "component:default/orders", "group:default/team-a",
        "location:default/acme-catalog",
    ]  # fmt: skip
    assert sorted(p.reason for p in snapshot.problems) == [
        'spec.targets: "../outside.yaml" is outside the catalog directory',
        'spec.targets: "./org/missing.yaml" does not exist',
        'spec.targets: "https://github.com/acme/infra/blob/main/catalog.yaml" is a URL; '
        "this provider reads only files in the catalog directory",
    ]
    assert {p.source for p in snapshot.problems} == {"catalog-info.yaml"}


def test_an_optional_location_target_may_be_missing_and_cycles_end(tmp_path: Path) -> None:
    (tmp_path / "catalog-info.yaml").write_text(
        yaml.safe_dump_all([
            _location("./catalog-info.yaml", "./later.yaml", presence="optional"),
            _component(),
        ])
    )  # fmt: skip
    snapshot = CatalogFiles(tmp_path, globs=["catalog-info.yaml"]).fetch_all()
    assert sorted(e.name for e in snapshot.entities) == ["acme-catalog", "orders"]
    assert snapshot.problems == ()
