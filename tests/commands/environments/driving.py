"""Driving `/platform env` through the emulator: the form, the plan, Confirm, and rows."""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import select

from bot.emulator.state import Message, View
from commands.environments.ids import ActionId, BlockId, CallbackId
from commands.environments.models import Environment, EnvResource
from tests.commands.environments.conftest import EnvBot

BOB = "U0BOB"  # payments
CAROL = "U0CAROL"  # payments lead
ALICE = "U0ALICE"  # admin, platform-team
DAVE = "U0DAVE"  # search lead


def top_view(env: EnvBot, user: str) -> View:
    state = env.bot.emulator.state
    assert env.bot.emulator.wait_for(lambda: bool(state.modal_stack(user)))
    return state.modal_stack(user)[-1]


def open_form(env: EnvBot, user: str, text: str = "env create") -> View:
    """The form the command opens: a new view, not the one an earlier step left open (the
    command is answered before Slack has opened its modal)."""
    state = env.bot.emulator.state
    before = {view.id for view in state.modal_stack(user)}
    response = env.bot.signer.slash_command(user, text)
    assert response.status == 200, response.body

    def opened() -> bool:
        stack = state.modal_stack(user)
        return bool(stack) and stack[-1].id not in before

    assert env.bot.emulator.wait_for(opened), state.modal_stack(user)
    view = state.modal_stack(user)[-1]
    assert view.spec.get("callback_id") == CallbackId.FORM, view.spec
    return view


def fill(env: EnvBot, user: str, view: View, **fields: str) -> Any:
    """Submit the form with `fields` (name, tier, team, ttl, reason, template, input_X)."""
    values: dict[str, dict[str, Any]] = {}
    for key, value in fields.items():
        action = ActionId.TEMPLATE if key == "template" else ActionId.FIELD
        block = getattr(BlockId, key.upper(), key)
        values[str(block)] = {str(action): value}
    return env.bot.signer.view_submission(user, view.id, values)


def plan_view(env: EnvBot, user: str, view_id: str, timeout: float = 60) -> View:
    """The plan, once the "Planning…" modal has been replaced by it."""
    state = env.bot.emulator.state

    def planned() -> bool:
        stack = state.modal_stack(user)
        return bool(stack) and stack[-1].id == view_id and "Working out" not in _text(stack[-1])

    assert env.bot.emulator.wait_for(planned, timeout=timeout), _text(state.modal_stack(user)[-1])
    return state.modal_stack(user)[-1]


def create(env: EnvBot, user: str, text: str = "env create", **fields: str) -> View:
    """Form → plan → Confirm; the plan view as it was shown."""
    view = open_form(env, user, text)
    response = fill(env, user, view, **fields)
    assert response.status == 200, response.body
    plan = plan_view(env, user, view.id)
    assert plan.spec.get("callback_id") == CallbackId.PLAN, _text(plan)
    confirmed = env.bot.signer.view_submission(user, plan.id)
    assert confirmed.status == 200, confirmed.body
    return plan


def _text(view: View) -> str:
    return json.dumps(view.spec)


def text_of(view: View) -> str:
    return _text(view)


def environments(env: EnvBot) -> list[Environment]:
    with env.services.sessions() as session:
        return list(session.scalars(select(Environment).order_by(Environment.created_at)))


def env_named(env: EnvBot, name: str) -> Environment:
    found = [e for e in environments(env) if e.name == name]
    assert found, [e.name for e in environments(env)]
    return found[-1]


def wait_status(env: EnvBot, name: str, status: str, timeout: float = 30) -> Environment:
    def reached() -> bool:
        return any(e.name == name and e.status == status for e in environments(env))

    assert env.bot.emulator.wait_for(reached, timeout=timeout), [
        (e.name, e.status, e.failure) for e in environments(env)
    ]
    return env_named(env, name)


def resource_rows(env: EnvBot, env_id: str) -> list[EnvResource]:
    with env.services.sessions() as session:
        query = select(EnvResource).where(EnvResource.environment_id == env_id)
        return list(session.scalars(query))


def dm_texts(env: EnvBot, user: str) -> list[str]:
    return [m.text + json.dumps(m.blocks) for m in env.bot.dm_messages(user)]


def told(env: EnvBot, user: str, text: str, timeout: float = 10) -> bool:
    """`text` arrives in `user`'s DM (or thread replies in it) or as an ephemeral answer."""
    state = env.bot.emulator.state

    def seen() -> bool:
        return any(text in t for t in dm_texts(env, user)) or any(
            text in e.text for e in state.ephemerals(user)
        )

    return env.bot.emulator.wait_for(seen, timeout=timeout)


def ephemeral(env: EnvBot, user: str, command: str) -> str:
    """The bot's answer to `/platform COMMAND`, shown only to `user`."""
    before = len(env.bot.emulator.state.ephemerals(user))
    response = env.bot.signer.slash_command(user, command)
    assert response.status == 200
    state = env.bot.emulator.state
    assert env.bot.emulator.wait_for(lambda: len(state.ephemerals(user)) > before)
    latest = state.ephemerals(user)[-1]
    return latest.text + json.dumps(latest.blocks)


def reveal(env: EnvBot, user: str, env_id: str) -> dict[str, str]:
    """Click Reveal on the environment's card in `user`'s DM; the values the modal shows."""
    state = env.bot.emulator.state

    def cards() -> list[Message]:
        return [
            m
            for m in env.bot.dm_messages(user)
            if ActionId.REVEAL in json.dumps(m.blocks) and env_id in json.dumps(m.blocks)
        ]

    assert env.bot.emulator.wait_for(lambda: bool(cards()), timeout=60)
    card = cards()[-1]
    state.clear_views(user)
    env.bot.signer.block_action(
        user, action_id=ActionId.REVEAL, value=env_id, message=(card.channel, card.ts)
    )
    assert env.bot.emulator.wait_for(lambda: bool(state.modal_stack(user)))
    shown = json.dumps(state.modal_stack(user)[-1].spec)
    state.clear_views(user)
    return dict(re.findall(r"\*([\w.: ]+):\* `([^`]*)`", shown))


def destroy(env: EnvBot, user: str, name: str) -> View:
    """`/platform env destroy NAME`, the name typed, Destroy; the modal as it was shown."""
    env.bot.emulator.state.clear_views(user)
    assert env.bot.signer.slash_command(user, f"env destroy {name}").status == 200
    state = env.bot.emulator.state

    def planned() -> bool:
        stack = state.modal_stack(user)
        return bool(stack) and stack[-1].spec.get("callback_id") == CallbackId.DESTROY

    assert env.bot.emulator.wait_for(planned, timeout=60), _text(top_view(env, user))
    modal = state.modal_stack(user)[-1]
    response = env.bot.signer.view_submission(
        user, modal.id, {BlockId.CONFIRM_NAME: {ActionId.FIELD: name}}
    )
    assert response.status == 200 and "Destroying" in response.body, response.body
    return modal


def extend(env: EnvBot, user: str, name: str, hours: str, reason: str) -> str:
    """`/platform env extend NAME` → the modal → Extend; the modal that answers."""
    env.bot.emulator.state.clear_views(user)
    assert env.bot.signer.slash_command(user, f"env extend {name}").status == 200
    modal = top_view(env, user)
    assert modal.spec.get("callback_id") == CallbackId.EXTEND, _text(modal)
    response = env.bot.signer.view_submission(
        user,
        modal.id,
        {BlockId.EXTEND_HOURS: {ActionId.FIELD: hours}, BlockId.REASON: {ActionId.FIELD: reason}},
    )
    assert response.status == 200, response.body
    return response.body
