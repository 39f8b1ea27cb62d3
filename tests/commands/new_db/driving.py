"""Driving `/platform new-db` through the emulator: open and submit the modal, look at rows."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from bot.emulator.state import Message, View
from commands.new_db.ids import ActionId, BlockId
from commands.new_db.models import DbRequest, DbResource
from tests.commands.new_db.conftest import DbBot

BOB = "U0BOB"  # payments
CAROL = "U0CAROL"  # payments lead
ALICE = "U0ALICE"  # admin, platform-team
DAVE = "U0DAVE"  # search lead


def open_modal(db: DbBot, user: str, text: str = "new-db") -> View:
    response = db.bot.signer.slash_command(user, text)
    assert response.status == 200, response.body
    # The modal opens right after the ack, so it may land just after the HTTP answer.
    state = db.bot.emulator.state
    assert db.bot.emulator.wait_for(lambda: bool(state.modal_stack(user))), response.body
    return state.modal_stack(user)[-1]


def submit(db: DbBot, user: str, view: View, **fields: Any) -> Any:
    values: dict[str, dict[str, Any]] = {}
    actions = {
        "engine": (BlockId.ENGINE, ActionId.ENGINE),
        "name": (BlockId.NAME, ActionId.NAME),
        "tier": (BlockId.TIER, ActionId.TIER),
        "team": (BlockId.TEAM, ActionId.TEAM),
        "plan": (BlockId.PLAN, ActionId.PLAN),
        "ttl": (BlockId.TTL, ActionId.TTL),
        "reason": (BlockId.REASON, ActionId.REASON),
    }
    for key, value in fields.items():
        block, action = actions[key]
        values[str(block)] = {str(action): value}
    return db.bot.signer.view_submission(user, view.id, values)


def request(db: DbBot, user: str, text: str = "new-db", **fields: Any) -> Any:
    return submit(db, user, open_modal(db, user, text), **fields)


def resources(db: DbBot) -> list[DbResource]:
    with db.services.sessions() as session:
        return list(session.scalars(select(DbResource)).all())


def dm_texts(db: DbBot, user: str) -> list[str]:
    channel = db.bot.emulator.state.dm_channel(user)
    if channel is None:
        return []
    return [m.text + json.dumps(m.blocks) for m in db.bot.emulator.state.messages(channel)]


def told(db: DbBot, user: str, text: str) -> bool:
    """An ephemeral answer to `user` containing `text` arrives (refusals come after the ack)."""
    state = db.bot.emulator.state
    return db.bot.emulator.wait_for(lambda: any(text in e.text for e in state.ephemerals(user)))


def wait_status(db: DbBot, status: str, timeout: float = 15) -> DbResource:
    def found() -> bool:
        return any(r.status == status for r in resources(db))

    assert db.bot.emulator.wait_for(found, timeout=timeout), [r.status for r in resources(db)]
    return next(r for r in resources(db) if r.status == status)


def approval_message(db: DbBot) -> Message:
    """The newest message in #platform-approvals, once there is one."""
    assert db.bot.emulator.wait_for(lambda: bool(db.bot.emulator.state.messages("C0APPROVALS")))
    return db.bot.emulator.state.messages("C0APPROVALS")[-1]


def click(
    db: DbBot, user: str, action: str, message: Message, value: str, *, stale: bool = False
) -> None:
    """`user` clicks `action` on `message`; `stale`: on the card as `message` still holds it
    (a second click from a client the app's update has not reached yet)."""
    response = db.bot.signer.block_action(
        user,
        action_id=action,
        value=value,
        message=(message.channel, message.ts),
        shown_blocks=message.blocks if stale else None,
    )
    assert response.status == 200


def only_request_id(db: DbBot) -> str:
    with db.services.sessions() as session:
        return str(session.scalars(select(DbRequest.id)).one())


def request_id_for(db: DbBot, name: str, action: str = "db.create") -> str:
    """The id of the `action` request for the resource called `name`."""
    query = (
        select(DbRequest.id)
        .join(DbResource, DbResource.id == DbRequest.resource_id)
        .where(DbResource.name == name, DbRequest.action == action)
    )
    with db.services.sessions() as session:
        return str(session.scalars(query).one())


def reveal_offer(db: DbBot, user: str, resource_id: str, timeout: float = 15) -> Message:
    """The DM offering `resource_id`'s Reveal button, once the hand-off job has posted it."""
    state = db.bot.emulator.state

    def offers() -> list[Message]:
        channel = state.dm_channel(user)
        messages = state.messages(channel) if channel is not None else []
        return [
            m
            for m in messages
            if ActionId.REVEAL in json.dumps(m.blocks) and resource_id in json.dumps(m.blocks)
        ]

    assert db.bot.emulator.wait_for(lambda: bool(offers()), timeout=timeout), dm_texts(db, user)
    return offers()[0]
