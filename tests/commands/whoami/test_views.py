"""`/platform whoami`: profile text shown as text, inside Block Kit's limits."""

from __future__ import annotations

import json

from bot.core.identity import Principal
from bot.core.mrkdwn import SECTION_FIELD_LIMIT, SECTION_TEXT_LIMIT
from bot.emulator.blockkit import check_message_blocks
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
    text = json.dumps(build_whoami(_principal(), ["new-db", "whoami"]))
    assert "Bob" in text and "bob@example.com" in text and "Europe/Paris" in text
    assert "`payments`" in text and "`/platform new-db`, `/platform whoami`" in text
    assert "Guests cannot" not in text


def test_a_hostile_display_name_is_shown_as_text() -> None:
    blocks = build_whoami(_principal(name=HOSTILE_TEXT, tz=HOSTILE_TEXT), [])
    text = json.dumps(blocks)
    assert not any(marker in text for marker in RAW_MARKERS)
    assert "&lt;!channel&gt;" in text


def test_a_guest_is_told_they_cannot_change_things() -> None:
    assert "Guests cannot" in json.dumps(build_whoami(_principal(is_guest=True), []))


def test_the_card_is_block_kit_slack_accepts() -> None:
    blocks = build_whoami(_principal(), ["new-db", "whoami"])
    assert check_message_blocks(blocks) == []
    assert blocks[0]["text"]["text"] == "*<@U0BOB>*"
    fields = {
        f["text"].partition("\n")[0]: f["text"].partition("\n")[2] for f in blocks[0]["fields"]
    }
    assert fields == {
        "*Name*": "Bob",
        "*Email*": "bob@example.com",
        "*Teams*": "`payments`",
        "*Lead of*": "none",
        "*Roles*": "none",
        "*Time zone*": "Europe/Paris",
    }
    assert blocks[1]["text"]["text"] == "*You may run:* `/platform new-db`, `/platform whoami`"


def test_a_profile_without_email_or_time_zone_says_unknown() -> None:
    blocks = build_whoami(_principal(email=None, tz=None, teams=frozenset()), [])
    texts = [f["text"] for f in blocks[0]["fields"]]
    assert "*Email*\nunknown" in texts and "*Time zone*\nunknown" in texts
    assert "*Teams*\nnone" in texts
    assert blocks[1]["text"]["text"] == "*You may run:* none"


def _teams_field(teams: frozenset[str]) -> str:
    blocks = build_whoami(_principal(teams=teams), [])
    assert check_message_blocks(blocks) == []
    return str(blocks[0]["fields"][2]["text"])


def test_a_field_at_the_block_kit_limit_is_shown_whole_and_one_more_is_cut() -> None:
    room = SECTION_FIELD_LIMIT - len("*Teams*\n``")
    whole = _teams_field(frozenset({"t" * room}))
    assert len(whole) == SECTION_FIELD_LIMIT and whole.endswith("t`")
    cut = _teams_field(frozenset({"t" * (room + 1)}))
    assert len(cut) <= SECTION_FIELD_LIMIT and cut.endswith("…")


def test_someone_in_hundreds_of_teams_with_a_huge_profile_gets_a_card_slack_accepts() -> None:
    many = frozenset(f"platform-engineering-team-{n:03d}" for n in range(300))
    principal = _principal(
        name="N" * 5_000, email="e" * 3_000, tz="Z" * 3_000, teams=many, lead_of=many, roles=many
    )
    blocks = build_whoami(principal, sorted(f"command-number-{n:03d}" for n in range(400)))
    assert check_message_blocks(blocks) == []
    assert all(len(f["text"]) <= SECTION_FIELD_LIMIT for f in blocks[0]["fields"])
    assert len(blocks[1]["text"]["text"]) <= SECTION_TEXT_LIMIT
    assert blocks[1]["text"]["text"].endswith("…")
