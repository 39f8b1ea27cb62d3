"""copier.yml questions → form fields, and answers checked as copier would check them."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.emulator.blockkit import check_view
from commands.new_service.service.questions import (
    MISSING,
    TemplateInvalid,
    evaluate,
    load_questions,
    parse,
)
from commands.new_service.service.requests import Form, FormValues
from commands.new_service.service.templates import ServiceTemplate
from commands.new_service.views.modals import build_form_modal, field_errors
from tests.conftest import REPO_ROOT

PYTHON = REPO_ROOT / "examples" / "templates" / "python-service"


def _template(tmp_path: Path, text: str) -> Path:
    (tmp_path / "copier.yml").write_text(text)
    return tmp_path


def test_the_example_template_asks_its_questions_in_file_order_with_types() -> None:
    questions = {q.key: q for q in load_questions(PYTHON)}
    assert list(questions) == [
        "name",
        "owner",
        "description",
        "python_version",
        "port",
        "with_database",
        "database_name",
    ]
    assert questions["port"].type == "int" and questions["port"].default == 8080
    assert [label for label, _ in questions["python_version"].choices] == ["3.11", "3.12", "3.13"]
    assert questions["with_database"].type == "bool"


def test_defaults_follow_earlier_answers_and_when_hides_a_question() -> None:
    questions = load_questions(PYTHON)
    fixed = {"name": "ledger-api", "owner": "payments"}
    answers, shown, errors = evaluate(questions, {}, fixed)
    assert errors == {}
    assert "database_name" not in answers and "database_name" not in [q.key for q in shown]
    answers, shown, errors = evaluate(questions, {"with_database": "yes"}, fixed)
    assert answers["database_name"] == "ledger_api"
    assert (answers["port"], answers["python_version"]) == (8080, "3.12")


def test_validators_are_the_templates_own_messages() -> None:
    questions = load_questions(PYTHON)
    fixed = {"name": "ab", "owner": "payments"}
    _, _, errors = evaluate(questions, {"port": "65536"}, fixed)
    assert errors == {"name": "3 to 40 characters", "port": "A port from 1024 to 65535"}


def test_each_type_parses_or_says_why(tmp_path: Path) -> None:
    path = _template(
        tmp_path,
        "count: {type: int}\nratio: {type: float}\nflag: {type: bool}\n"
        "extra: {type: yaml}\nraw: {type: json}\n"
        "size: {type: str, choices: {Small: s, Large: l}}\n",
    )
    q = {x.key: x for x in load_questions(path)}
    assert parse(q["count"], "12") == 12
    assert parse(q["ratio"], "0.5") == 0.5
    assert parse(q["flag"], "no") is False
    assert parse(q["extra"], "a: [1, 2]") == {"a": [1, 2]}
    assert parse(q["raw"], '{"a": 1}') == {"a": 1}
    assert parse(q["size"], "1") == "l"
    for key, text, message in [
        ("count", "1.5", "A whole number"),
        ("ratio", "x", "A number"),
        ("flag", "maybe", "Yes or no"),
        ("raw", "{", "Not JSON"),
        ("size", "2", "Pick one of the choices"),
        ("count", "9" * 2001, "At most 2,000 characters"),
    ]:
        with pytest.raises(ValueError, match=message):
            parse(q[key], text)


def test_a_question_without_a_default_left_blank_is_required(tmp_path: Path) -> None:
    questions = load_questions(_template(tmp_path, "team_slug: {type: str}\n"))
    assert questions[0].default is MISSING
    _, _, errors = evaluate(questions, {"team_slug": "  "}, {})
    assert errors == {"team_slug": "Required"}


def test_the_shorthand_and_secret_questions(tmp_path: Path) -> None:
    path = _template(tmp_path, "replicas: 3\ntoken: {type: str, secret: true, default: x}\n")
    questions = load_questions(path)
    assert (questions[0].type, questions[0].default) == ("int", 3)
    answers, shown, _ = evaluate(questions, {"token": "typed"}, {})
    # A secret is never asked in Slack: copier takes its default when it renders.
    assert [q.key for q in shown] == ["replicas"] and "token" not in answers


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("a: {type: path}\n", "type 'path'"),
        ("a: {type: str, multiselect: true, choices: [x]}\n", "multiselect"),
        ("a: {type: str, choices: '{{ x }}'}\n", "choices must be a list"),
        ("- a\n", "a mapping of questions"),
        ("a: [\n", "copier.yml"),
        ("".join(f"q{i}: 1\n" for i in range(41)), "more than 40 questions"),
    ],
)
def test_a_template_the_form_cannot_show_is_refused(
    tmp_path: Path, text: str, problem: str
) -> None:
    with pytest.raises(TemplateInvalid, match=problem):
        load_questions(_template(tmp_path, text))


def test_no_copier_yml_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TemplateInvalid, match=r"has no copier\.yml"):
        load_questions(tmp_path)


def test_the_form_holds_every_kind_of_question_within_slack_limits(tmp_path: Path) -> None:
    path = _template(
        tmp_path,
        "a: {type: int, default: 1, help: " + "h" * 300 + "}\nb: {type: bool, default: true}\n"
        "c: {type: yaml, default: {k: v}}\nd: {type: str, choices: ["
        + ",".join(f"x{i}" for i in range(100))
        + "]}\n",
    )
    questions = load_questions(path)
    answers, shown, _ = evaluate(questions, {}, {})
    template = ServiceTemplate("t", path, "T", None, questions)
    form = Form(template, shown, {q.key: answers.get(q.key) for q in shown}, ["payments"])
    modal = build_form_modal([("t", "T" * 200)], form, FormValues(template="t"), "C1")
    check_view(modal)
    blocks = {b["block_id"]: b for b in modal["blocks"]}
    assert blocks["q_b"]["element"]["initial_option"]["value"] == "1"
    assert blocks["q_c"]["element"]["initial_value"] == '{"k": "v"}'
    assert len(blocks["q_d"]["element"]["options"]) == 100
    assert blocks["q_a"]["optional"] is True  # left blank, it takes its default
    assert field_errors({"a": "bad", "gone": "x"}, modal) == {"q_a": "bad", "name": "x"}
