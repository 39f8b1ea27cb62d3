"""Driving the App Home through the emulator: open it, read it, click on it."""

from __future__ import annotations

import json
from typing import Any, Protocol

from bot.emulator.state import View
from tests.harness import BotHarness


class DbBot(Protocol):
    """The new-db and the environments test bots alike."""

    @property
    def bot(self) -> BotHarness: ...


def open_home(db: DbBot, user: str) -> View:
    """`user` opens the bot's Home tab; the view once the bot has published it."""
    state = db.bot.emulator.state
    before = state.home(user)
    response = db.bot.signer.event({"type": "app_home_opened", "user": user, "tab": "home"})
    assert response.status == 200
    assert db.bot.emulator.wait_for(lambda: state.home(user) not in (None, before))
    home = state.home(user)
    assert home is not None
    return home


def home_text(db: DbBot, user: str) -> str:
    home = db.bot.emulator.state.home(user)
    return "" if home is None else json.dumps(home.spec["blocks"])


def home_shows(db: DbBot, user: str, text: str, timeout: float = 10) -> bool:
    """`user`'s Home tab shows `text`, now or within `timeout` (refreshes come after changes)."""
    return db.bot.emulator.wait_for(lambda: text in home_text(db, user), timeout=timeout)


def home_drops(db: DbBot, user: str, text: str, timeout: float = 10) -> bool:
    return db.bot.emulator.wait_for(lambda: text not in home_text(db, user), timeout=timeout)


def element_block(view: View, action_id: str, value: str) -> str:
    """The block id of the element `action_id` whose value is `value` (one row of a list)."""
    for block in view.spec["blocks"]:
        elements = list(block.get("elements") or [])
        if block.get("accessory"):
            elements.append(block["accessory"])
        for element in elements:
            if element.get("action_id") == action_id and element.get("value") == value:
                return str(block["block_id"])
    raise AssertionError(f"no {action_id} for {value} on the Home tab")


def click_home(db: DbBot, user: str, action_id: str, value: str, view: View | None = None) -> Any:
    """`user` clicks `action_id` on the row for `value` of their Home tab (or of `view`, a
    Home tab as their client still shows it)."""
    shown = view or db.bot.emulator.state.home(user)
    assert shown is not None
    block_id = element_block(shown, action_id, value)
    response = db.bot.signer.block_action(
        user, action_id=action_id, value=value, view_id=shown.id, block_id=block_id
    )
    assert response.status == 200
    return response
