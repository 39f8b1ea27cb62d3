"""The bot's actions registry: one offer per name, calls as a person, unmet calls named."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from bot.core.actions import BotAction, BotActions
from bot.core.errors import NotFound
from bot.core.identity import Principal
from tests.core.test_policy import principal as make_principal


def _echo(principal: Principal, args: Mapping[str, str]) -> str:
    return f"{principal.user_id} said {args['word']}"


ECHO = BotAction(summary="Echo a word", args=("word",), call=_echo)


def test_an_action_runs_as_the_caller_and_unknown_ones_are_not_found() -> None:
    actions = BotActions()
    actions.offer({"test.echo": ECHO})
    principal = make_principal("U0BOB")
    assert actions.call("test.echo", principal, {"word": "hi"}) == "U0BOB said hi"
    with pytest.raises(NotFound, match=r"no action `test\.nope`"):
        actions.call("test.nope", principal, {})
    with pytest.raises(ValueError, match="two features offer"):
        actions.offer({"test.echo": ECHO})


def test_expected_calls_are_checked_against_the_offers() -> None:
    actions = BotActions()
    actions.expect("test.echo", ["word"], where="a.yaml:3: steps.0.bot")
    assert actions.unmet() == ["a.yaml:3: steps.0.bot: no bot action 'test.echo' (known: none)"]
    actions.offer({"test.echo": ECHO})
    assert actions.unmet() == []
    actions.expect("test.echo", [], where="b.yaml:4: steps.1.bot")
    assert actions.unmet() == ["b.yaml:4: steps.1.bot: test.echo takes word (missing word)"]
