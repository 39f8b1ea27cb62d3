"""The workspace fixture: packaged default, YAML files, Python construction, generation."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.emulator import Workspace
from bot.emulator.workspace import LOAD_CHANNEL


def test_default_fixture_has_the_documented_people_and_places() -> None:
    ws = Workspace.default()

    assert (ws.team.id, ws.team.domain) == ("T0PLATFORM", "acme")
    assert [u.name for u in ws.humans] == ["alice", "bob", "carol", "dave", "erin", "frank"]
    assert ws.user("erin@example.com").is_restricted  # type: ignore[union-attr]
    assert ws.user("U0FRANK").deleted  # type: ignore[union-attr]
    assert (ws.bot_user.id, ws.bot_user.bot_id) == ("U0PLATBOT", "B0PLATBOT")
    assert ws.user("deploy-bot").is_bot  # type: ignore[union-attr]
    assert ws.channel("#platform-approvals").members == ("U0ALICE", "U0PLATBOT")  # type: ignore[union-attr]
    assert all("U0PLATBOT" in c.members for c in ws.channels)
    assert ws.usergroup("@payments-eng").users == ("U0BOB", "U0CAROL")  # type: ignore[union-attr]
    assert ws.user("nobody") is None and ws.channel("nowhere") is None


def test_loads_from_another_yaml_file(tmp_path: Path) -> None:
    path = tmp_path / "ws.yaml"
    path.write_text(
        "team: {id: T1, name: Other, domain: other}\n"
        "users:\n"
        "  - {id: U1, name: zoe, email: zoe@example.com}\n"
        "  - {id: U0PLATBOT, name: platform-bot, is_bot: true, bot_id: B0PLATBOT}\n"
        "channels:\n"
        "  - {id: C1, name: ops, members: [U1, U0PLATBOT]}\n"
    )

    ws = Workspace.load(path)

    assert (ws.team.domain, ws.user("zoe").id, ws.channel("ops").members) == (  # type: ignore[union-attr]
        "other",
        "U1",
        ("U1", "U0PLATBOT"),
    )


def test_unknown_members_are_rejected() -> None:
    with pytest.raises(ValidationError, match="unknown members"):
        Workspace.from_mapping(
            {
                "users": [{"id": "U0PLATBOT", "name": "platform-bot", "is_bot": True}],
                "channels": [{"id": "C1", "name": "x", "members": ["U404"]}],
            }
        )


def test_generated_workspace_for_load_tests() -> None:
    ws = Workspace.generate(users=250)

    assert len(ws.humans) == 250
    assert len({u.email for u in ws.humans}) == 250
    assert len({u.tz for u in ws.humans}) == 8
    assert len(ws.channel("general").members) == 251  # type: ignore[union-attr]


def test_a_synthetic_crowd_beside_the_fixture_keeps_its_people_and_has_a_channel() -> None:
    base = Workspace.default()
    ws = Workspace.generate(users=30, beside=base)

    assert len(ws.humans) == len(base.humans) + 30
    assert ws.user("U0BOB") == base.user("U0BOB")
    assert ws.usergroups == base.usergroups
    assert ws.channel("general") == base.channel("general")  # the crowd is not in it
    crowd = ws.channel(LOAD_CHANNEL)
    assert crowd is not None and crowd.name == "load"
    assert len(crowd.members) == 31  # the synthetic people and the bot
    assert set(crowd.members) - {"U0PLATBOT"} == {f"U{i:08d}" for i in range(30)}
