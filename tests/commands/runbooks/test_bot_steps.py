"""A runbook's `bot` step calls the bot's own actions as the runner: the example "Extend my
environment" runbook moves a real (fake-provisioned) environment's expiry through the
emulator, someone else's environment stops the run with the environments feature's message,
and an action or argument nobody offers stops the start at its file and line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.core.errors import ConfigProblem, InvalidInput
from bot.emulator.blockkit import check_message_blocks, check_view
from tests.commands.environments.conftest import EnvBot, env_config, running_env_bot
from tests.commands.environments.driving import BOB, DAVE, create, env_named, wait_status
from tests.commands.runbooks.conftest import RunbookBot, runbook_config, start_bot

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "runbooks"
HEAD = "name: demo\ntitle: Demo\nowner: payments\n"


@pytest.fixture
def bots(tmp_path: Path, migrated_schema: Path) -> Iterator[tuple[EnvBot, RunbookBot]]:
    """Environments with fake provisioners and the example runbooks, in one running bot."""
    config = env_config(tmp_path)
    section = config.runbooks.model_copy(update={"directory": EXAMPLES})
    config = config.model_copy(update={"runbooks": section})
    with running_env_bot(tmp_path, migrated_schema, config) as envbot:
        yield envbot, RunbookBot(envbot.bot)


def _ready(envbot: EnvBot, name: str) -> datetime:
    """BOB's new sandbox `name`, once ready: its expiry."""
    create(envbot, BOB, f"env create sandbox {name}", tier="dev")
    expires = wait_status(envbot, name, "ready").expires_at
    assert expires is not None
    return expires


def _run(rb: RunbookBot, user: str, *, dry: bool = False, **params: str) -> Any:
    """Submit the example runbook's form as `user`; the submission's response."""
    view = rb.open_form(user, "runbook run extend-environment" + (" --dry-run" if dry else ""))
    return rb.submit(user, view, **params)


def _audit(rb: RunbookBot) -> list[tuple[str, str, str, str]]:
    entries = rb.bot.services.audit.recent(limit=100)
    return [(e.actor, e.action, e.outcome, e.target or "") for e in reversed(entries)]


def test_the_example_runbook_extends_the_runners_environment(
    bots: tuple[EnvBot, RunbookBot],
) -> None:
    envbot, rb = bots
    before = _ready(envbot, "mine")

    dry = _run(rb, BOB, dry=True, env="mine", hours="48", why="demo <!here>").json["view"]
    check_view(dry)
    assert "env.extend name=mine hours=48" in json.dumps(dry)
    assert env_named(envbot, "mine").expires_at == before  # a dry run changes nothing

    _run(rb, BOB, env="mine", hours="48", why="demo <!here>")
    rb.wait_run("succeeded")
    after = env_named(envbot, "mine").expires_at
    assert after is not None
    assert abs((after - before) - timedelta(hours=48)) < timedelta(minutes=1)
    shown = rb.told(BOB, "Step 1 done: mine extended by 48 h; it now expires")
    assert "<!here>" not in shown
    for message in rb.dm(BOB):
        check_message_blocks(message.blocks)

    audit = _audit(rb)
    assert (BOB, "env.extend", "succeeded", "env:mine") in audit
    assert any(
        a == "runbook.run.step" and o == "succeeded" and t.endswith("step 1")
        for _, a, o, t in audit
    ), audit


def test_someone_elses_environment_stops_the_run_with_the_environments_message(
    bots: tuple[EnvBot, RunbookBot],
) -> None:
    envbot, rb = bots
    before = _ready(envbot, "theirs")

    _run(rb, DAVE, env="theirs", hours="24", why="mine now")
    run = rb.wait_run("failed")
    shown = rb.told(DAVE, "failed: You have no environment called `theirs`")
    assert "Step 1 (Extend it) failed" in shown
    assert run.failure is not None and "no environment called" in run.failure
    assert env_named(envbot, "theirs").expires_at == before
    audit = _audit(rb)
    assert not [entry for entry in audit if entry[1] == "env.extend"]
    assert (DAVE, "runbook.run.step", "failed") in [(w, a, o) for w, a, o, _ in audit]


def test_hours_beyond_the_tiers_maximum_are_refused_by_the_environments_feature(
    bots: tuple[EnvBot, RunbookBot],
) -> None:
    envbot, rb = bots
    _ready(envbot, "capped")
    principal = rb.bot.services.identity.principal(BOB)
    with pytest.raises(InvalidInput, match="at most 336"):
        rb.bot.services.parts["environments"].actions["env.extend"].call(
            principal, {"name": "capped", "hours": "400", "reason": "long"}
        )
    with pytest.raises(InvalidInput, match="number of hours"):
        rb.bot.services.parts["environments"].actions["env.extend"].call(
            principal, {"name": "capped", "hours": "nan", "reason": "long"}
        )


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        (
            "  - bot: {action: env.shrink, args: {name: x}}\n",
            "demo.yaml:5: steps.0.bot: no bot action 'env.shrink' (known: env.extend)",
        ),
        (
            "  - bot: {action: env.extend, args: {name: x, hours: '1', why: y}}\n",
            "demo.yaml:5: steps.0.bot: env.extend takes name, hours, reason "
            "(missing reason; unknown why)",
        ),
        (
            "  - bot: {action: env.extend, args: {name: 5, hours: '1', reason: y}}\n",
            "demo.yaml:5: steps.0.bot.args.name: Input should be a valid string",
        ),
        (
            "  - bot: {action: env.extend, args: {name: '${params.nope}', hours: '1', "
            "reason: y}}\n",
            "demo.yaml:5: steps.0.bot.args.name: ${params.nope} names no parameter",
        ),
    ],
)
def test_a_wrong_bot_step_stops_the_start_at_its_file_and_line(
    tmp_path: Path, migrated_schema: Path, step: str, expected: str
) -> None:
    directory = tmp_path / "runbooks"
    directory.mkdir()
    (directory / "demo.yaml").write_text(HEAD + "steps:\n" + step)
    with (
        pytest.raises(ConfigProblem) as raised,
        start_bot(tmp_path, migrated_schema, runbook_config(directory)),
    ):
        pass
    assert expected in str(raised.value), str(raised.value)
