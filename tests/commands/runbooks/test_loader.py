"""Runbook files are checked when the bot starts: every problem as `file:line: key: message`."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.core.errors import ConfigProblem
from bot.runtime.config import feature_sections
from commands.runbooks.config import HttpSettings, RunbooksSection
from commands.runbooks.loader import RunbookProblems, load_directory
from tests.conftest import REPO_ROOT

TEAMS = ["payments", "platform", "search"]
HEAD = "name: demo\ntitle: Demo\nowner: payments\n"


def _section(directory: Path, **changes: object) -> RunbooksSection:
    base: dict[str, object] = {
        "directory": directory,
        "commands": ["echo"],
        "secrets": {"TOKEN": SecretStr("x")},
        "http": HttpSettings(allowed_hosts=["api.example"]),
    }
    return RunbooksSection.model_validate({**base, **changes})


def _problems(tmp_path: Path, text: str, **changes: object) -> list[str]:
    (tmp_path / "demo.yaml").write_text(text)
    with pytest.raises(RunbookProblems) as raised:
        load_directory(_section(tmp_path, **changes), tmp_path, TEAMS)
    return raised.value.problems


def test_the_example_runbooks_load_with_the_example_config() -> None:
    from tests.harness import example_config

    config = example_config()
    section = feature_sections(config)["runbooks"]
    assert isinstance(section, RunbooksSection)
    loaded = load_directory(section, REPO_ROOT, list(config.teams))
    assert set(loaded) == {
        "restart-deployment",
        "rotate-cache",
        "say-hello",
        "extend-environment",
    }
    assert loaded["say-hello"].programs["echo"].endswith("/echo")
    (call,) = loaded["extend-environment"].calls
    assert (call.action, call.args) == ("env.extend", ("name", "hours", "reason"))


def test_a_command_not_on_the_allowlist_is_named_with_its_file_and_line(tmp_path: Path) -> None:
    text = HEAD + "steps:\n  - command:\n      program: rm\n      args: [-rf, /]\n"
    assert _problems(tmp_path, text) == [
        f"{tmp_path / 'demo.yaml'}:6: steps.0.command.program: 'rm' is not in runbooks.commands "
        "(the allowlist)"
    ]


@pytest.mark.parametrize(
    ("steps", "line", "message"),
    [
        ('  - command: {program: echo, args: ["x${params.who}"]}\n', 5, "a whole argument"),
        ("  - command: {program: echo, args: ['${params.nope}']}\n", 5, "names no parameter"),
        ("  - message: {channel: '#a', text: '${secret:TOKEN}'}\n", 5, "HTTP headers only"),
        ("  - http: {url: 'https://api.example/${secret:TOKEN}'}\n", 5, "HTTP headers only"),
        ("  - http: {url: 'https://${params.who}/x'}\n", 5, "whose host is written out"),
        ("  - http: {url: 'https://evil.example/x'}\n", 5, "not in runbooks.http.allowed_hosts"),
        ("  - http: {url: 'https://api.example/', headers: {A: '${secret:NOPE}'}}\n", 5, "NOPE"),
        ("  - http: {url: 'https://api.example/'}\n    confirm: both\n", 5, "exactly one of"),
        ("  - confirm: ok\n    action: x.y\n", 5, "action goes with risky"),
    ],
)
def test_each_unsafe_or_wrong_step_is_a_load_error_at_its_line(
    tmp_path: Path, steps: str, line: int, message: str
) -> None:
    text = HEAD + "steps:\n" + steps
    text = text.replace("owner: payments\n", "owner: payments\nparameters: [{name: who}]\n")
    (problem,) = _problems(tmp_path, text)
    assert f"demo.yaml:{line + 1}:" in problem and message in problem, problem


def test_model_errors_name_the_key_and_line(tmp_path: Path) -> None:
    text = HEAD + "parameters:\n  - name: n\n    type: int\n    pattern: '(a+)+'\nsteps: []\n"
    problems = _problems(tmp_path, text)
    assert any(":7: parameters.0.pattern:" in p and "not supported" in p for p in problems), (
        problems
    )
    assert any(":8: steps:" in p for p in problems), problems


def test_unknown_owner_bad_yaml_and_aliases_are_reported(tmp_path: Path) -> None:
    assert (
        "not a team"
        in _problems(tmp_path, HEAD.replace("payments", "nobody") + "steps:\n  - confirm: x\n")[0]
    )
    assert ":2: not valid YAML" in _problems(tmp_path, "name: [\n")[0]
    aliased = HEAD + "steps:\n  - &a {confirm: x}\n  - *a\n"
    assert ":6: YAML aliases" in _problems(tmp_path, aliased)[0]


def test_the_feature_refuses_to_start_with_a_bad_runbook(
    tmp_path: Path, migrated_schema: Path
) -> None:
    from tests.commands.runbooks.conftest import runbook_config, start_bot

    (tmp_path / "bad.yaml").write_text(HEAD + "steps:\n  - command: {program: curl}\n")
    with (
        pytest.raises(ConfigProblem) as raised,
        start_bot(tmp_path, migrated_schema, runbook_config(tmp_path)),
    ):
        pass
    assert "bad.yaml:5: steps.0.command.program: 'curl' is not in runbooks.commands" in str(
        raised.value
    )
