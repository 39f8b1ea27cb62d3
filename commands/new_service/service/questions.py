"""A copier template's questions, read from its `copier.yml`, and the answers checked against them.

Copier's own rules, as `copier copy --defaults --data` applies them: questions in file order;
`when` (a bool or a Jinja expression over the earlier answers) hides a question and drops its
answer; `default` may be a Jinja template over the earlier answers; `validator` is a Jinja
template that renders nothing when the answer is good and the message otherwise. Templates
are rendered in Jinja's sandbox with the filters copier offers (jinja2-ansible-filters), as
copier itself renders them; nothing else of a template runs in the bot (no tasks, no
migrations, no Jinja extensions: copier is called with `unsafe=False`).

    TemplateInvalid   copier.yml cannot be read or asks what a modal cannot show
    AnswersInvalid    field errors, by question key (and `name` / `owner`)
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from jinja2 import TemplateError
from jinja2.sandbox import SandboxedEnvironment

from bot.core.errors import InvalidInput

MAX_QUESTIONS = 40
"""A modal holds 100 blocks; a template asking more than this is not a form for chat."""
MAX_ANSWER_CHARS = 2_000
MAX_CHOICES = 100
TYPES = frozenset({"str", "int", "float", "bool", "yaml", "json"})
FIXED = ("name", "owner")
"""Questions the bot answers from its own Name and Owner fields, when a template asks them."""
_TRUE = frozenset({"y", "yes", "t", "true", "on", "1"})
_FALSE = frozenset({"n", "no", "f", "false", "off", "0", ""})


class TemplateInvalid(Exception):
    """The template's copier.yml cannot be turned into a form."""


class AnswersInvalid(InvalidInput):
    """Field errors keyed by question (or `name`, `owner`, `template`)."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("; ".join(errors.values()), field=next(iter(errors), None))
        self.errors = dict(errors)


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


@dataclass(frozen=True)
class Question:
    key: str
    type: str
    help: str = ""
    default: Any = MISSING
    choices: tuple[tuple[str, Any], ...] = ()
    validator: str = ""
    when: str | bool = True
    multiline: bool = False
    secret: bool = False

    @property
    def label(self) -> str:
        return self.key.replace("_", " ").capitalize()[:48]


_ENV = SandboxedEnvironment(extensions=["jinja2_ansible_filters.AnsibleCoreFiltersExtension"])


def render(value: Any, answers: Mapping[str, Any]) -> Any:
    """`value` rendered as a Jinja template over `answers` (non-strings as they are)."""
    if not isinstance(value, str) or ("{{" not in value and "{%" not in value):
        return value
    return _ENV.from_string(value).render(**answers)


def load_questions(template_dir: Path) -> tuple[Question, ...]:
    """The questions of the copier template in `template_dir`, in file order."""
    found = [
        template_dir / n for n in ("copier.yml", "copier.yaml") if (template_dir / n).is_file()
    ]
    if len(found) != 1:
        raise TemplateInvalid(f"{template_dir} has no copier.yml (or has both spellings)")
    try:
        data = yaml.safe_load(found[0].read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise TemplateInvalid(f"{found[0]}: {exc}") from None
    if not isinstance(data, dict):
        raise TemplateInvalid(f"{found[0]}: a mapping of questions, please")
    questions = [_question(str(k), v) for k, v in data.items() if not str(k).startswith("_")]
    if len(questions) > MAX_QUESTIONS:
        raise TemplateInvalid(f"{found[0]}: more than {MAX_QUESTIONS} questions")
    return tuple(questions)


def _question(key: str, spec: Any) -> Question:
    if not isinstance(spec, dict):
        spec = {"default": spec}  # copier's shorthand `key: default`
    kind = str(spec.get("type") or _type_of(spec.get("default")))
    if kind not in TYPES:
        raise TemplateInvalid(f"question {key!r}: type {kind!r} is not one of {sorted(TYPES)}")
    if spec.get("multiselect"):
        raise TemplateInvalid(f"question {key!r}: multiselect questions are not supported")
    return Question(
        key=key,
        type=kind,
        help=str(spec.get("help") or "")[:500],
        default=spec.get("default", MISSING),
        choices=_choices(key, spec.get("choices")),
        validator=str(spec.get("validator") or ""),
        when=spec.get("when", True),
        multiline=bool(spec.get("multiline", kind in ("yaml", "json"))),
        secret=bool(spec.get("secret", False)),
    )


def _type_of(default: Any) -> str:
    if isinstance(default, bool):
        return "bool"
    if isinstance(default, int):
        return "int"
    if isinstance(default, float):
        return "float"
    return "str"


def _choices(key: str, raw: Any) -> tuple[tuple[str, Any], ...]:
    if raw is None:
        return ()
    if isinstance(raw, dict):
        pairs = [(str(label), value) for label, value in raw.items()]
    elif isinstance(raw, list):
        pairs = [
            (str(item[0]), item[1])
            if isinstance(item, list) and len(item) == 2
            else (str(item), item)
            for item in raw
        ]
    else:
        raise TemplateInvalid(f"question {key!r}: choices must be a list or a mapping")
    if not pairs or len(pairs) > MAX_CHOICES:
        raise TemplateInvalid(f"question {key!r}: 1 to {MAX_CHOICES} choices")
    return tuple(pairs)


def is_shown(question: Question, answers: Mapping[str, Any]) -> bool:
    """Copier's `when`: a bool, or a template rendering to a YAML-ish boolean."""
    try:
        value = render(question.when, answers)
    except TemplateError:
        return True  # shown: its own validator or copier will name the problem
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() not in _FALSE


def default_of(question: Question, answers: Mapping[str, Any]) -> Any:
    try:
        return render(question.default, answers)
    except TemplateError:
        return MISSING


def parse(question: Question, text: str) -> Any:
    """The typed answer from what was typed or picked; ValueError with a message for people."""
    if len(text) > MAX_ANSWER_CHARS:
        raise ValueError(f"At most {MAX_ANSWER_CHARS:,} characters")
    if question.choices:
        index = int(text) if text.isdigit() else -1
        if not 0 <= index < len(question.choices):
            raise ValueError("Pick one of the choices")
        return question.choices[index][1]
    return coerce(question.type, text)


def coerce(kind: str, value: Any) -> Any:
    text = str(value).strip()
    if kind == "int":
        try:
            return int(text)
        except ValueError:
            raise ValueError("A whole number, please") from None
    if kind == "float":
        try:
            return float(text)
        except ValueError:
            raise ValueError("A number, please") from None
    if kind == "bool":
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise ValueError("Yes or no")
    if kind == "json":
        try:
            return json.loads(text)
        except ValueError as exc:
            raise ValueError(f"Not JSON: {exc}") from None
    if kind == "yaml":
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError:
            raise ValueError("Not YAML") from None
    return str(value)


def problem_with(question: Question, value: Any, answers: Mapping[str, Any]) -> str:
    """The validator's message for `value` (empty when it is good)."""
    if not question.validator:
        return ""
    try:
        return str(render(question.validator, {**answers, question.key: value})).strip()
    except TemplateError as exc:
        return f"The template's check failed: {exc}"


def evaluate(
    questions: Sequence[Question],
    typed: Mapping[str, str],
    fixed: Mapping[str, Any],
) -> tuple[dict[str, Any], list[Question], dict[str, str]]:
    """Answers, the questions shown and the field errors, walking the questions in order.

    `typed` holds the modal's raw values (blank: the default); `fixed` the bot's own answers.
    """
    answers: dict[str, Any] = dict(fixed)
    shown: list[Question] = []
    errors: dict[str, str] = {}
    for question in questions:
        if question.secret or not is_shown(question, answers):
            continue  # a secret is never typed into Slack: copier takes its default
        if question.key in fixed:
            value = coerce(question.type, fixed[question.key])
        else:
            shown.append(question)
            text = typed.get(question.key, "")
            try:
                value = parse(question, text) if text.strip() else default_of(question, answers)
            except ValueError as exc:
                errors[question.key] = str(exc)[:150]
                continue
            if value is MISSING:
                errors[question.key] = "Required"
                continue
        message = problem_with(question, value, answers)
        if message:
            errors[question.key] = message[:150]
        answers[question.key] = value
    return answers, shown, errors
