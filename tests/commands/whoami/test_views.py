"""`/platform whoami` shows profile text as text: people edit their Slack profile freely."""

from __future__ import annotations

import json

from bot.identity import Principal
from commands.whoami.views import build_whoami
from tests.hostile import HOSTILE_TEXT, RAW_MARKERS


def _principal(**changes: object) -> Principal:
    values: dict[str, object] = {
        "user_id": "U0BOB",
        "name": "Bob",
        "email": "bob@example.com",
        "tz": "Europe/Paris",
        "is_bot": False,
        "is_guest": False,
        "deleted": False,
        "teams": frozenset({"payments"}),
        "lead_of": frozenset(),
        "roles": frozenset(),
        "usergroups": frozenset(),
    }
    values.update(changes)
    return Principal(**values)  # type: ignore[arg-type]


def test_whoami_lists_the_profile_teams_and_allowed_actions() -> None:
    text = json.dumps(build_whoami(_principal(), ["db.create", "whoami"]))
    assert "Bob" in text and "bob@example.com" in text and "Europe/Paris" in text
    assert "`payments`" in text and "`db.create`, `whoami`" in text
    assert "Guests cannot" not in text


def test_a_hostile_display_name_is_shown_as_text() -> None:
    blocks = build_whoami(_principal(name=HOSTILE_TEXT, tz=HOSTILE_TEXT), [])
    text = json.dumps(blocks)
    assert not any(marker in text for marker in RAW_MARKERS)
    assert "&lt;!channel&gt;" in text


def test_a_guest_is_told_they_cannot_change_things() -> None:
    assert "Guests cannot" in json.dumps(build_whoami(_principal(is_guest=True), []))
