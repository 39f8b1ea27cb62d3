"""Score workload files: the official sample, every rule at its boundaries, agreement with the
official schema (JSON Schema 2020-12), engines for resource types, and placeholders filled in
without leaking what they were filled with."""

from __future__ import annotations

import json
import time
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from integrations.score import (
    DEFAULT_ENGINES,
    MAX_SCORE_BYTES,
    EngineResource,
    PlaceholderUnresolved,
    ResolvedTooLarge,
    ScoreError,
    ScoreInvalid,
    ScoreResource,
    ScoreWorkload,
    ServicePort,
    load_score,
    parse_score,
    plan_resources,
    resolve_variables,
)
from tests.conftest import SPECS_DIR

SCORE_SPECS = SPECS_DIR / "score"
PASSWORD = "pw-Zq81-very-secret"
OUTPUTS = {
    "db": {"host": "db.internal", "port": 5432, "username": "orders", "password": PASSWORD},
    "cache": {"host": "cache.internal", "port": 6379},
}


@pytest.fixture(scope="module")
def official_schema() -> dict[str, Any]:
    path = SCORE_SPECS / "score-v1b1.json"
    if not path.is_file():
        pytest.skip(f"the official Score schema is not at {path} (set PLATFORM_BOT_SPECS_DIR)")
    schema: dict[str, Any] = json.loads(path.read_text())
    return schema


@pytest.fixture(scope="module")
def official(official_schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(official_schema)


def _document(**changes: Any) -> dict[str, Any]:
    """A small valid workload; `a__b=value` sets a nested field, `=_DROP` removes it."""
    document: dict[str, Any] = {
        "apiVersion": "score.dev/v1b1",
        "metadata": {"name": "orders"},
        "service": {"ports": {"web": {"port": 80, "targetPort": 8080}}},
        "containers": {
            "api": {
                "image": "registry.example/orders:1.4",
                "variables": {"DB_HOST": "${resources.db.host}"},
            }
        },
        "resources": {"db": {"type": "postgres"}, "cache": {"type": "redis", "class": "small"}},
    }
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        target = document
        for part in parents:
            target = target.setdefault(part, {})
        if value is _DROP:
            target.pop(last, None)
        else:
            target[last] = value
    return document


_DROP = object()


def _problems(document: Any) -> dict[str, str]:
    with pytest.raises(ScoreInvalid) as caught:
        parse_score(document)
    return {problem.path: problem.reason for problem in caught.value.problems}


def _workload(variables: dict[str, str], **changes: Any) -> ScoreWorkload:
    return parse_score(_document(containers__api__variables=variables, **changes))


# --- the official sample -----------------------------------------------------------------------


def test_the_official_sample_is_valid_and_reads_into_a_workload(
    official_schema: dict[str, Any],
) -> None:
    path = SCORE_SPECS / "score-full.sample.yaml"
    if not path.is_file():
        pytest.skip(f"the official Score sample is not at {path} (set PLATFORM_BOT_SPECS_DIR)")

    workload = load_score(path.read_text(), schema=official_schema)

    assert load_score(path.read_bytes()) == workload  # the bot's own rules accept it as well
    assert workload.name == "example-workload-name123"
    assert [c.name for c in workload.containers] == ["container-one1", "container-two2"]
    assert workload.containers[0].image == "localhost:4000/repo/my-image:tag"
    assert dict(workload.containers[0].variables) == {"SOME_VAR": "some content here"}
    assert workload.ports == (
        ServicePort("port-one", 1000, target_port=10000, protocol="TCP"),
        ServicePort("port-two2", 8000, target_port=8000, protocol="TCP"),
    )
    first, _, third = workload.resources
    assert (first.name, first.type, first.resource_class) == (
        "resource-one1",
        "Resource-One",
        "default",
    )
    assert dict(first.params) == {"extra": {"data": "here"}}
    assert (third.type, third.id) == ("Type-Three", "shared-type-three")


# --- every rule at its boundaries ----------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["ab", "a" * 63, "orders-api-2", "9a", "a-b"], ids=lambda n: f"{len(n)} chars"
)
def test_a_workload_name_that_is_a_label_of_2_to_63_characters_is_accepted(name: str) -> None:
    assert parse_score(_document(metadata__name=name)).name == name


@pytest.mark.parametrize("name", ["", "a", "a" * 64, "Orders", "-orders", "orders-", "or_ders", 42])
def test_a_workload_name_that_is_not_such_a_label_is_refused(name: object) -> None:
    assert (
        "lowercase letters, digits and '-'"
        in _problems(_document(metadata__name=name))["metadata.name"]
    )


@pytest.mark.parametrize(
    ("changes", "path", "reason"),
    [
        ({"apiVersion": "score.dev/v1b2"}, "apiVersion", 'is "score.dev/v1b2"; the bot reads'),
        ({"apiVersion": _DROP}, "apiVersion", "is missing"),
        ({"metadata": _DROP}, "metadata", "is missing"),
        ({"metadata__name": _DROP}, "metadata.name", "is missing"),
        ({"containers": _DROP}, "containers", "is missing"),
        ({"containers": {}}, "containers", "must name at least one entry"),
        ({"containers": ["api"]}, "containers", "must be a mapping"),
        ({"containers__api__image": _DROP}, "containers.api.image", "is missing"),
        ({"containers__api__image": ""}, "containers.api.image", "must be text, not empty"),
        ({"containers__api__variables__PORT": 8080}, "containers.api.variables.PORT",
         "must be text (quote numbers"),
        ({"containers__api__variables__A=B": "x"}, "containers.api.variables.A=B", "without '='"),
        ({"containers__api__entrypoint": "x"}, "containers.api.entrypoint", "not a field Score"),
        ({"service__ports__web__port": 0}, "service.ports.web.port", "from 1 to 65535"),
        ({"service__ports__web__port": True}, "service.ports.web.port", "from 1 to 65535"),
        ({"service__ports__web__targetPort": 65536}, "service.ports.web.targetPort", "1 to 65535"),
        ({"service__ports__web__protocol": "SCTP"}, "service.ports.web.protocol", "TCP or UDP"),
        ({"service__ports__Web": {"port": 1}}, "service.ports.Web", "the name must be 2 to 63"),
        ({"resources__db__type": _DROP}, "resources.db.type", "is missing"),
        ({"resources__db__params": ["x"]}, "resources.db.params", "must be a mapping"),
        ({"resources__db__size": "large"}, "resources.db.size", "not a field Score knows here"),
        ({"resources__db": "postgres"}, "resources.db", "must be a mapping of its fields"),
        ({"spec": {}}, "spec", "not a field Score knows here"),
    ],
)  # fmt: skip
def test_each_rule_names_the_field_and_says_why(
    changes: dict[str, Any], path: str, reason: str
) -> None:
    assert reason in _problems(_document(**changes))[path]


@pytest.mark.parametrize("document", [None, [], "apiVersion: score.dev/v1b1", 3])
def test_a_document_that_is_not_a_mapping_is_refused(document: Any) -> None:
    assert "not a mapping" in _problems(document)[""]


@pytest.mark.parametrize("name", ["db", "d" * 63, "orders-db", "1db"])
def test_resource_names_that_are_labels_are_accepted(name: str) -> None:
    workload = parse_score(_document(resources={name: {"type": "postgres"}}))
    assert [r.name for r in workload.resources] == [name]


@pytest.mark.parametrize("name", ["d", "d" * 64, "DB", "-db", "db-", "my_db", "my.db", ""])
def test_resource_names_that_are_not_labels_are_refused(name: str) -> None:
    problems = _problems(_document(resources={name: {"type": "postgres"}}))
    path = f"resources.{name}" if name else 'resources.""'
    assert problems == {
        path: "the name must be 2 to 63 characters of lowercase letters, digits "
        "and '-', starting and ending with a letter or digit"
    }


@pytest.mark.parametrize("field", ["type", "class"])
@pytest.mark.parametrize("value", ["ab", "A" * 63, "Resource-One", "s3"])
def test_a_type_or_class_of_2_to_63_letters_digits_and_dashes_is_accepted(
    field: str, value: str
) -> None:
    parse_score(_document(**{f"resources__db__{field}": value}))


@pytest.mark.parametrize("field", ["type", "class"])
@pytest.mark.parametrize("value", ["a", "a" * 64, "-pg", "pg-", "post gres", "pg_16", "", 16])
def test_a_type_or_class_of_another_form_is_refused(field: str, value: object) -> None:
    assert (
        "must be 2 to 63 characters of letters"
        in (_problems(_document(**{f"resources__db__{field}": value}))[f"resources.db.{field}"])
    )


@pytest.mark.parametrize(("value", "ok"), [("shared-db", True), ("a.b--c", True), ("ab", True),
                                           ("a", False), ("a..b", False), ("Shared", False),
                                           ("a" * 64, False), ("-ab", False)])  # fmt: skip
def test_a_resource_id_follows_the_schemas_form(value: str, ok: bool) -> None:
    document = _document(resources__db__id=value)
    if ok:
        assert parse_score(document).resources[0].id == value
    else:
        assert "resources.db.id" in _problems(document)


def test_every_problem_is_listed_at_once_and_long_values_are_cut() -> None:
    huge = "X" * 10_000
    problems = _problems(
        _document(metadata__name=huge, resources={huge: {"type": huge}}, apiVersion=huge)
    )
    assert len(problems) == 3
    with pytest.raises(ScoreInvalid) as caught:
        parse_score(_document(metadata__name=huge, resources={huge: {"type": "postgres"}}))
    assert len(str(caught.value)) < 600
    assert "X" * 100 not in str(caught.value)


# --- agreement with the official schema --------------------------------------------------------

VALID = [
    _document(),
    _document(service=_DROP, resources=_DROP),
    _document(metadata__name="a" * 63, metadata__team="payments"),
    _document(resources__db__class="Large-2", resources__db__id="shared.orders-db",
              resources__db__params={"version": 16}, resources__db__metadata={"x": 1}),
    _document(containers__api__variables={}, containers__worker={"image": "w", "args": ["-v"]}),
    _document(service__ports__web={"port": 65535, "protocol": "UDP"}),
    _document(resources={"r" * 63: {"type": "T" * 63}}),
]  # fmt: skip
INVALID = [
    _document(apiVersion="score.dev/v1b2"),
    _document(apiVersion=_DROP),
    _document(metadata__name="a" * 64),
    _document(metadata__name="a"),
    _document(metadata__name="Orders"),
    _document(metadata=_DROP),
    _document(containers=_DROP),
    _document(containers={}),
    _document(containers={"A": {"image": "x"}}),
    _document(containers__api__image=""),
    _document(containers__api__image=_DROP),
    _document(containers__api__variables__PORT=8080),
    _document(containers__api__variables={"": "x"}),
    _document(containers__api__variables={"A=B": "x"}),
    _document(containers__api__cmd=["x"]),
    _document(resources__db__type="p"),
    _document(resources__db__type="T" * 64),
    _document(resources__db__type=_DROP),
    _document(resources__db__class="c"),
    _document(resources__db__id="a..b"),
    _document(resources__db__params="x"),
    _document(resources__db__extra=1),
    _document(resources={"d": {"type": "postgres"}}),
    _document(resources={"db_1": {"type": "postgres"}}),
    _document(resources=[]),
    _document(service__ports__web__port=0),
    _document(service__ports__web__port="80"),
    _document(service__ports__web__protocol="tcp"),
    _document(service__ports__web__hostPort=80),
    _document(service__hosts=["x"]),
    _document(kind="Workload"),
]


@pytest.mark.parametrize("document", VALID + INVALID)
def test_our_checks_agree_with_the_official_schema(
    official: jsonschema.Draft202012Validator, document: dict[str, Any]
) -> None:
    try:
        parse_score(document)
        ours_ok = True
    except ScoreInvalid:
        ours_ok = False
    assert ours_ok == official.is_valid(document)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="aZ09-_.", max_size=70))
def test_names_and_types_agree_with_the_official_schema(
    official: jsonschema.Draft202012Validator, text: str
) -> None:
    for document in (
        _document(metadata__name=text),
        _document(resources={text: {"type": "postgres"}}),
        _document(resources__db__type=text),
        _document(resources__db__id=text),
    ):
        try:
            parse_score(document)
            ours_ok = True
        except ScoreInvalid:
            ours_ok = False
        assert ours_ok == official.is_valid(document)


def test_with_the_schema_its_other_rules_are_checked_in_plain_words(
    official_schema: dict[str, Any],
) -> None:
    document = _document(
        containers__api__files={"/etc/app.conf": {"mode": "9999", "source": "app.conf"}},
        containers__api__livenessProbe={"httpGet": {"path": "/livez"}},
        containers__api__resources={"limits": {"memory": "lots"}},
    )
    parse_score(document)  # the bot's own rules do not look at files, probes or limits

    with pytest.raises(ScoreInvalid) as caught:
        parse_score(document, schema=official_schema)

    assert {p.path: p.reason for p in caught.value.problems} == {
        "containers.api.files./etc/app.conf.mode": "is not in the form Score allows here",
        "containers.api.livenessProbe.httpGet.port": "is missing",
        "containers.api.resources.limits.memory": "is not in the form Score allows here",
    }


def test_with_the_schema_a_problem_is_reported_once(official_schema: dict[str, Any]) -> None:
    document = _document(resources={"DB": {"type": "p"}}, metadata__name="a" * 64)
    with pytest.raises(ScoreInvalid) as caught:
        parse_score(document, schema=official_schema)
    assert [p.path for p in caught.value.problems] == ["metadata.name", "resources.DB"]
    assert "^" not in str(caught.value) and "is not valid under" not in str(caught.value)


# --- reading the file ----------------------------------------------------------------------------


def test_a_file_over_the_size_bound_is_refused_before_it_is_parsed() -> None:
    text = "apiVersion: score.dev/v1b1\n#" + "é" * (MAX_SCORE_BYTES // 2)
    with pytest.raises(ScoreInvalid, match="over 256 KB"):
        load_score(text)
    with pytest.raises(ScoreInvalid, match="over 256 KB"):
        load_score(b"#" * (MAX_SCORE_BYTES + 1))


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("apiVersion: [score.dev\n", "not valid YAML at line 2"),
        ("- apiVersion\n- containers\n", "not a mapping"),
        ("", "not a mapping"),
        ("a: !!python/object:os.system x\n", "not valid YAML"),
        ("a: &a [*a, *a]\n" + "b: &b [*a, *a, *a, *a]\n" * 1, "too large or too deeply nested"),
    ],
)
def test_a_file_that_is_not_a_workload_document_is_refused(text: str, reason: str) -> None:
    with pytest.raises(ScoreInvalid, match=reason):
        load_score(text)


def test_yaml_aliases_cannot_multiply_the_work() -> None:
    lines = ["l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, 9)]
    started = time.perf_counter()
    with pytest.raises(ScoreInvalid, match="too large or too deeply nested"):
        load_score("\n".join(lines))
    assert time.perf_counter() - started < 1.0


# --- engines -------------------------------------------------------------------------------------


def test_each_resource_type_maps_to_an_engine_and_the_others_are_listed_as_unsupported() -> None:
    resources = {name: {"type": name} for name in ("postgres", "mysql", "redis", "amqp", "s3",
                                                  "dns", "route", "volume")}  # fmt: skip
    resources["postgres"]["class"] = "large"
    plan = plan_resources(parse_score(_document(resources=resources)))

    assert [(e.resource.name, e.engine) for e in plan.on_engines] == [
        ("postgres", "postgres"), ("mysql", "mariadb"), ("redis", "redis"), ("amqp", "rabbitmq")
    ]  # fmt: skip
    assert plan.on_engines[0].resource.resource_class == "large"
    assert [(r.name, r.type) for r in plan.unsupported] == [
        ("s3", "s3"), ("dns", "dns"), ("route", "route"), ("volume", "volume")
    ]  # fmt: skip


def test_the_caller_can_give_its_own_table_of_engines() -> None:
    workload = parse_score(_document())
    plan = plan_resources(workload, engines={"redis": "valkey"})
    assert plan.on_engines == (EngineResource(workload.resources[1], "valkey"),)
    assert plan.unsupported == (ScoreResource("db", "postgres"),)
    assert plan_resources(parse_score(_document(resources=_DROP))).on_engines == ()
    assert DEFAULT_ENGINES["mysql"] == "mariadb"


# --- placeholders --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("${resources.db.host}", "db.internal"),
        ("postgres://${resources.db.username}@${resources.db.host}:${resources.db.port}/x",
         "postgres://orders@db.internal:5432/x"),
        ("${metadata.name}-${resources.cache.host}", "orders-cache.internal"),
        ("$${resources.db.host}", "${resources.db.host}"),
        ("$$${resources.db.port}", "$5432"),
        ("$$$${metadata.name}", "$${metadata.name}"),
        ("cost: $5 and $$ and $", "cost: $5 and $ and $"),
        ("{resources.db.host}}", "{resources.db.host}}"),
        ("${resources.dotted.a\\.b}", "dot"),
        ("plain text", "plain text"),
        ("", ""),
    ],
)  # fmt: skip
def test_placeholders_and_escapes_are_filled_in_as_score_writes_them(text: str, value: str) -> None:
    outputs = {**OUTPUTS, "dotted": {"a.b": "dot"}}
    resolved = resolve_variables(_workload({"V": text}), outputs)
    assert dict(resolved[0].variables) == {"V": value}


@pytest.mark.parametrize(
    ("text", "placeholder", "reason"),
    [
        ("${resources.queue.host}", "${resources.queue.host}", 'names resource "queue", not in'),
        ("${resources.cache.password}", "${resources.cache.password}", 'output "password"'),
        ("${resources.db}", "${resources.db}", "is not a placeholder the bot fills in"),
        ("${resources.db.host.name}", "${resources.db.host.name}", "is not a placeholder"),
        ("${metadata.annotations.x}", "${metadata.annotations.x}", "is not a placeholder"),
        ("${}", "${}", "is not a placeholder"),
        ("x ${resources.db.host", "${resources.db.host", "has no closing '}'"),
        ("${resources.${resources.db.host}}", "${resources.${resources.db.host}",
         "is not a placeholder"),
    ],
)  # fmt: skip
def test_a_placeholder_that_cannot_be_filled_in_names_the_variable_and_placeholder(
    text: str, placeholder: str, reason: str
) -> None:
    with pytest.raises(PlaceholderUnresolved) as caught:
        resolve_variables(_workload({"OK": "${resources.db.host}", "BAD": text}), OUTPUTS)
    error = caught.value
    assert (error.container, error.variable, error.placeholder) == ("api", "BAD", placeholder)
    assert reason in str(error)
    assert str(error).startswith('container "api", variable "BAD": ')


def test_an_unclosed_placeholder_is_kept_only_in_part() -> None:
    workload = _workload({"V": "${resources.db." + "x" * 100_000})
    with pytest.raises(PlaceholderUnresolved) as caught:
        resolve_variables(workload, OUTPUTS)
    assert len(caught.value.placeholder) == 200
    assert len(str(caught.value)) < 300


def test_a_resource_in_the_file_that_was_not_provisioned_is_named_as_such() -> None:
    workload = _workload({"Q": "${resources.cache.host}"})
    with pytest.raises(PlaceholderUnresolved, match='"cache", which has no outputs'):
        resolve_variables(workload, {"db": OUTPUTS["db"]})


@pytest.mark.parametrize(
    "text",
    ["${" * 50_000, "$" * 100_000, "$$" * 50_000, "${}" * 33_000, "$}{" * 33_000,
     "${metadata.name}" * 6_000, "${resources." + "." * 100_000 + "}",
     "${" + "\\" * 100_000 + "}"],
    ids=["${", "$", "$$", "${}", "$}{", "names", "dots", "backslashes"],
)  # fmt: skip
def test_hostile_text_is_resolved_or_refused_in_linear_time(text: str) -> None:
    workload = _workload({"V": text})
    started = time.perf_counter()
    try:
        resolved = resolve_variables(workload, OUTPUTS)
        assert len(resolved[0].variables["V"]) <= len(text) + 10
    except ScoreError:
        pass
    assert time.perf_counter() - started < 1.0


def test_the_resolved_values_are_bounded_in_size() -> None:
    outputs = {"db": {"blob": "x" * 1_000}}
    workload = _workload({"A": "${resources.db.blob}" * 600, "B": "${resources.db.blob}" * 500})
    with pytest.raises(ResolvedTooLarge) as caught:
        resolve_variables(workload, outputs)
    assert caught.value.variable == "B"
    assert resolve_variables(workload, outputs, max_chars=1_100_000)[0].variables["A"] == (
        "x" * 600_000
    )


def test_no_resolved_value_appears_in_an_exception_or_a_repr() -> None:
    workload = _workload(
        {"DB_PASSWORD": "${resources.db.password}", "URL": "x://:${resources.db.password}@h",
         "BROKEN": "${resources.db.passwrd}"}
    )  # fmt: skip
    with pytest.raises(PlaceholderUnresolved) as unresolved:
        resolve_variables(workload, OUTPUTS)
    with pytest.raises(ResolvedTooLarge) as too_large:
        resolve_variables(workload, OUTPUTS, max_chars=30)

    for error in (unresolved.value, too_large.value):
        shown = f"{error} {error!r} {error.args} {vars(error)}"
        assert PASSWORD not in shown
        assert error.__cause__ is None and error.__suppress_context__
    assert 'names output "passwrd"' in str(unresolved.value)

    fine = _workload({"DB_PASSWORD": "${resources.db.password}"})
    resolved = resolve_variables(fine, OUTPUTS)
    assert resolved[0].variables["DB_PASSWORD"] == PASSWORD
    assert PASSWORD not in repr(resolved) and PASSWORD not in str(resolved)
