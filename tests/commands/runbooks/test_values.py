"""Parameters: typed, bounded values, patterns in linear time, and templates filled safely."""

from __future__ import annotations

import time

import pytest

from commands.runbooks.pattern import PatternError, compile_pattern
from commands.runbooks.render import ParamsInvalid, check_values, render_step
from commands.runbooks.spec import Runbook

RUNBOOK = Runbook.model_validate(
    {
        "name": "demo",
        "title": "Demo",
        "owner": "payments",
        "parameters": [
            {"name": "svc", "pattern": "[a-z][a-z0-9-]{0,20}"},
            {"name": "n", "type": "int", "min": 1, "max": 5, "default": 2},
            {"name": "env", "type": "choice", "choices": ["dev", "prod"]},
            {"name": "force", "type": "bool"},
        ],
        "steps": [
            {
                "http": {
                    "method": "POST",
                    "url": "https://api.example/x/${params.svc}?n=${params.n}",
                    "headers": {"Authorization": "Bearer ${secret:TOKEN}"},
                    "body": {
                        "n": "${params.n}",
                        "note": "by ${runner}",
                        "force": "${params.force}",
                    },
                }
            },
            {"command": {"program": "echo", "args": ["${params.svc}", "--env", "${params.env}"]}},
        ],
    }
)


def test_each_bad_value_is_a_field_error_naming_its_field() -> None:
    with pytest.raises(ParamsInvalid) as raised:
        check_values(RUNBOOK, {"svc": "Bad Name", "n": "9", "env": "qa"})
    assert raised.value.errors == {
        "param_svc": "Svc: does not match the pattern `[a-z][a-z0-9-]{0,20}`.",
        "param_n": "N: at most 5.",
        "param_env": "Env: one of dev, prod.",
    }
    with pytest.raises(ParamsInvalid) as missing:
        check_values(RUNBOOK, {"n": "x", "env": "dev"})
    assert missing.value.errors == {
        "param_svc": "Svc is required.",
        "param_n": "N: a whole number, please.",
    }


def test_values_fill_a_url_encoded_a_command_as_whole_arguments_and_keep_json_types() -> None:
    values = check_values(RUNBOOK, {"svc": "a", "env": "dev", "force": True})
    assert values == {"svc": "a", "n": 2, "env": "dev", "force": True}
    hostile = {**values, "svc": "a/../b?x=1 c"}
    http = render_step(
        0, RUNBOOK.steps[0], hostile, runner="U1", secrets={"TOKEN": "s3"}, programs={}
    )
    assert http.url == "https://api.example/x/a%2F..%2Fb%3Fx%3D1%20c?n=2"
    assert http.body == {"n": 2, "note": "by U1", "force": True}
    assert http.headers == {"Authorization": "Bearer s3"} and http.secrets == ("s3",)
    assert "s3" not in http.shown and "[secret TOKEN]" in http.shown
    command = render_step(
        1, RUNBOOK.steps[1], hostile, runner="U1", secrets={}, programs={"echo": "/bin/echo"}
    )
    assert command.argv == ("/bin/echo", "a/../b?x=1 c", "--env", "dev")


@pytest.mark.parametrize(
    ("pattern", "good", "bad"),
    [
        ("[a-z][a-z0-9-]{0,5}", ["a", "ab-1"], ["", "1a", "abcdefgh", "A"]),
        (r"v\d+\.\d+", ["v1.2", "v10.20"], ["v1", "v1.", "1.2"]),
        ("[^ ]+", ["abc"], ["a b", ""]),
        ("a?b*c", ["c", "ac", "abbbc"], ["aac", "ab"]),
    ],
)
def test_patterns_match_the_whole_value(pattern: str, good: list[str], bad: list[str]) -> None:
    compiled = compile_pattern(pattern)
    assert [compiled.matches(v) for v in good] == [True] * len(good)
    assert [compiled.matches(v) for v in bad] == [False] * len(bad)


@pytest.mark.parametrize(
    "pattern", ["(a+)+", "a|b", "^a$", "a{3,1}", "[a-", "*a", "\\q", "a" * 201]
)
def test_what_the_language_leaves_out_is_refused(pattern: str) -> None:
    with pytest.raises(PatternError):
        compile_pattern(pattern)


def test_patterns_that_backtrack_for_ever_in_re_take_milliseconds_here() -> None:
    # In Python's re, `a*a*…a*b` against 200 a's tries O(n^k) splits before failing.
    compiled = compile_pattern("a*" * 20 + "b")
    started = time.perf_counter()
    assert not compiled.matches("a" * 200)
    assert not compile_pattern(".{0,200}.{0,199}x").matches("a" * 200)
    assert time.perf_counter() - started < 0.5
