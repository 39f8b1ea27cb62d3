"""`/platform audit` through the Slack emulator, over signed HTTP, on the example config."""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.core.audit import SYSTEM_ACTOR, AuditLog, AuditRecord, Outcome
from bot.emulator.blockkit import check_message_blocks
from commands.audit.ids import ActionId
from tests.harness import BotHarness, example_config, running_bot
from tests.hostile import HOSTILE_TEXT, raw_markup_shown

BOB = "U0BOB"
ALICE = "U0ALICE"  # admin
NOW = datetime.now(UTC)
ACTIONS = ["db.create", "db.rotate", "env.create", "env.destroy", "runbook.run", "db_create"]
OUTCOMES = [Outcome.REQUESTED, Outcome.SUCCEEDED, Outcome.FAILED, Outcome.DENIED]


@pytest.fixture
def bot(tmp_path: Path, migrated_schema: Path) -> Iterator[BotHarness]:
    with running_bot(tmp_path, schema=migrated_schema, background=False) as running:
        yield running


def _seed(bot: BotHarness, count: int = 37) -> None:
    """Records spread over 20 days, several actors, actions, outcomes and targets."""
    for n in range(count):
        at = NOW - timedelta(days=20) + timedelta(hours=13 * n, minutes=30)  # off the since: edges
        log = AuditLog(bot.services.sessions, clock=lambda at=at: at)  # type: ignore[misc]
        log.record(
            actor=[BOB, ALICE, SYSTEM_ACTOR, "U0DAVE"][n % 4],
            action=ACTIONS[n % len(ACTIONS)],
            outcome=OUTCOMES[n % len(OUTCOMES)],
            target=[f"db/orders-{n}", f"env/pr-{n}", None][n % 3],
            inputs={"n": n},
        )


def _answer(response: Any) -> tuple[str, list[Any]]:
    assert response.status == 200, response.body
    return str(response.json.get("text", "")), list(response.json.get("blocks", []))


def _ids(blocks: list[Any]) -> list[int]:
    return [int(m) for m in re.findall(r"· #(\d+)", json.dumps(blocks, ensure_ascii=False))]


def _buttons(blocks: list[Any]) -> dict[str, str]:
    return {
        e["action_id"]: e["value"] for b in blocks if b["type"] == "actions" for e in b["elements"]
    }


def _forged(value: str) -> list[Any]:
    """A Next button as a stale or doctored copy of a message might still show it."""
    button = {
        "type": "button",
        "action_id": ActionId.PAGE_OLDER,
        "text": {"type": "plain_text", "text": "Next"},
        "value": value,
    }
    return [{"type": "actions", "block_id": "forged", "elements": [button]}]


def _all_pages(bot: BotHarness, filters: str) -> list[int]:
    """Every id the command shows for `filters`, following Next to the end."""
    bot.signer.slash_command(ALICE, f"audit {filters}")
    shown: list[int] = []
    for _ in range(20):
        answer = bot.emulator.state.ephemerals(ALICE)[-1]
        assert check_message_blocks(answer.blocks) == []
        shown += _ids(answer.blocks)
        value = _buttons(answer.blocks).get(ActionId.PAGE_OLDER)
        if value is None:
            return shown
        bot.signer.block_action(
            ALICE, action_id=ActionId.PAGE_OLDER, value=value, message=(answer.channel, answer.ts)
        )
        assert bot.emulator.wait_idle()
    raise AssertionError("more than 20 pages")


def _expected(bot: BotHarness, keep: Callable[[AuditRecord], bool]) -> list[int]:
    with bot.services.sessions() as session:
        rows = session.scalars(select(AuditRecord).order_by(AuditRecord.id.desc())).all()
    return [row.id for row in rows if keep(row)]


CASES: list[tuple[str, Callable[[AuditRecord], bool]]] = [
    ("", lambda r: True),
    (f"user:<@{BOB}|bob>", lambda r: r.actor == BOB),
    (f"user:{SYSTEM_ACTOR}", lambda r: r.actor == SYSTEM_ACTOR),
    ("action:db.*", lambda r: fnmatch.fnmatchcase(r.action, "db.*")),
    ("action:db?create", lambda r: r.action in ("db.create", "db_create")),
    ("action:db_create", lambda r: r.action == "db_create"),  # `_` is not a wildcard
    ("outcome:failed action:env.*", lambda r: r.outcome == "failed" and r.action[:4] == "env."),
    ("target:orders", lambda r: "orders" in (r.target or "")),
    ("target:env/pr-1*", lambda r: (r.target or "").startswith("env/pr-1")),
    ("since:7d", lambda r: r.created_at >= NOW - timedelta(days=7)),
    ("team:search", lambda r: r.actor == "U0DAVE"),  # dave is the search team
    ("team:search user:" + BOB, lambda r: False),
]


@pytest.mark.parametrize(("filters", "keep"), CASES, ids=[c[0] or "none" for c in CASES])
def test_the_filters_show_exactly_the_matching_records_newest_first(
    bot: BotHarness, filters: str, keep: Callable[[AuditRecord], bool]
) -> None:
    _seed(bot)
    expected = _expected(bot, keep)
    assert _all_pages(bot, filters) == expected
    if not expected:
        assert "No audit records match" in bot.emulator.state.ephemerals(ALICE)[-1].text


def test_pages_of_ten_go_forward_and_back(bot: BotHarness) -> None:
    _seed(bot, 25)
    everything = _expected(bot, lambda r: True)
    _, first = _answer(bot.signer.slash_command(ALICE, "audit"))
    assert _ids(first) == everything[:10]
    assert set(_buttons(first)) == {ActionId.PAGE_OLDER}
    answer = bot.emulator.state.ephemerals(ALICE)[-1]
    bot.signer.block_action(
        ALICE,
        action_id=ActionId.PAGE_OLDER,
        value=_buttons(first)[ActionId.PAGE_OLDER],
        message=(answer.channel, answer.ts),
    )
    assert bot.emulator.wait_idle()
    second = bot.emulator.state.ephemerals(ALICE)[-1]
    assert _ids(second.blocks) == everything[10:20]
    assert set(_buttons(second.blocks)) == {ActionId.PAGE_OLDER, ActionId.PAGE_NEWER}
    bot.signer.block_action(
        ALICE,
        action_id=ActionId.PAGE_NEWER,
        value=_buttons(second.blocks)[ActionId.PAGE_NEWER],
        message=(second.channel, second.ts),
    )
    assert bot.emulator.wait_idle()
    back = bot.emulator.state.ephemerals(ALICE)[-1]
    assert _ids(back.blocks) == everything[:10]
    assert set(_buttons(back.blocks)) == {ActionId.PAGE_OLDER}


def test_a_person_who_is_not_an_admin_is_refused_with_the_policys_words(
    bot: BotHarness,
) -> None:
    _seed(bot, 3)
    refused, blocks = _answer(bot.signer.slash_command(BOB, "audit"))
    assert "Only admins may read the audit log" in refused + json.dumps(blocks)
    refused, blocks = _answer(bot.signer.slash_command(BOB, "audit export"))
    assert "Only admins may read the audit log" in refused + json.dumps(blocks)
    # A page button forged (or forwarded) to someone else: the clicker is checked again.
    shown = bot.emulator.state.ephemerals(BOB)[-1]
    bot.signer.block_action(
        BOB,
        action_id=ActionId.PAGE_OLDER,
        value='{"f":"","o":99}',
        message=(shown.channel, shown.ts),
        shown_blocks=_forged('{"f":"","o":99}'),
    )
    assert bot.emulator.wait_for(
        lambda: any(
            "Only admins may read the audit log" in e.text
            for e in bot.emulator.state.ephemerals(BOB)
        )
    )
    assert all("#1" not in json.dumps(e.blocks) for e in bot.emulator.state.ephemerals(BOB))


@pytest.mark.parametrize(
    ("filters", "says"),
    [
        ("since:400d", "at most a year"),
        ("since:2999-01-01", "in the last ten years"),
        ("since:yesterday", "is like `7d`"),
        ("outcome:won", "`outcome:` is one of"),
        ("colour:red", "is not a filter"),
        ("team:nope", "is not a team"),
        ("user:@nobody-known", "I know no one named"),
        ("action:db.*;drop", "`action:` takes letters"),
        ("action:*.*.*.*", "at most 3 `*`"),
        ("action:db.* action:env.*", "given twice"),
        (f"target:{'x' * 101}", "1 to 100 characters"),
        ("<!channel>", "is not a filter"),
        ("target:<!channel>", "No audit records match"),
    ],
)
def test_bad_and_hostile_filters_get_a_specific_escaped_answer(
    bot: BotHarness, filters: str, says: str
) -> None:
    text, blocks = _answer(bot.signer.slash_command(ALICE, f"audit {filters}"))
    assert says in text + json.dumps(blocks)
    assert raw_markup_shown(bot.emulator) == []


def test_hostile_text_in_records_is_shown_escaped(bot: BotHarness) -> None:
    bot.services.audit.record(
        actor="<!channel>",
        action="db.create",
        outcome=Outcome.FAILED,
        target=HOSTILE_TEXT,
        detail=HOSTILE_TEXT,
        inputs={"name": HOSTILE_TEXT},
    )
    _, blocks = _answer(bot.signer.slash_command(ALICE, "audit"))
    assert check_message_blocks(blocks) == []
    assert "&lt;!channel&gt;" in json.dumps(blocks)
    assert raw_markup_shown(bot.emulator) == []


def test_a_page_button_with_a_tampered_value_is_refused(bot: BotHarness) -> None:
    _seed(bot, 12)
    bot.signer.slash_command(ALICE, "audit")
    page = bot.emulator.state.ephemerals(ALICE)[-1]
    for value in ["not json", '{"f":"","o":0}', '{"f":"","o":1,"n":2}', '{"f":"colour:red","o":5}']:
        bot.signer.block_action(
            ALICE,
            action_id=ActionId.PAGE_OLDER,
            value=value,
            message=(page.channel, page.ts),
            shown_blocks=_forged(value),
        )
    assert bot.emulator.wait_for(lambda: len(bot.emulator.state.ephemerals(ALICE)) == 5)
    # Each answer is posted after its click's ack, so they may arrive in any order.
    texts = [e.text for e in bot.emulator.state.ephemerals(ALICE)[1:]]
    assert texts.count("That page button is not one of mine; run `/platform audit` again.") == 3
    assert len([text for text in texts if "is not a filter" in text]) == 1


def test_export_uploads_the_matching_records_as_json_lines_to_the_dm(bot: BotHarness) -> None:
    _seed(bot)
    text, _ = _answer(bot.signer.slash_command(ALICE, "audit export action:db.* since:14d"))
    assert "JSON Lines" in text and "at most 10,000" in text
    assert bot.run_jobs() == 1
    [file] = [f for f in bot.emulator.state.files if str(f["name"]).endswith(".jsonl")]
    lines = [json.loads(line) for line in bytes(file["content"]).decode().splitlines()]
    expected = _expected(
        bot,
        lambda r: r.action.startswith("db.") and r.created_at >= NOW - timedelta(days=14),
    )
    assert [line["id"] for line in lines] == expected
    assert {"actor", "action", "outcome", "created_at", "inputs", "hash", "prev_hash"} <= set(
        lines[0]
    )
    exported = bot.services.audit.recent(action="audit.export")
    assert [e.outcome for e in exported] == ["succeeded", "requested"]
    assert exported[0].inputs["records"] == len(expected)


def test_an_export_over_the_limit_is_cut_to_the_newest_and_says_so(
    tmp_path: Path, migrated_schema: Path
) -> None:
    config = example_config()
    small = config.audit.model_copy(update={"export_max_records": 5})  # type: ignore[attr-defined]
    config = config.model_copy(update={"audit": small})
    with running_bot(tmp_path, schema=migrated_schema, background=False, config=config) as bot:
        _seed(bot, 8)
        text, _ = _answer(bot.signer.slash_command(ALICE, "audit export"))
        assert "at most 5" in text
        assert bot.run_jobs() == 1
        [file] = [f for f in bot.emulator.state.files if str(f["name"]).endswith(".jsonl")]
        lines = bytes(file["content"]).decode().splitlines()
        assert [json.loads(line)["id"] for line in lines] == [
            9,
            8,
            7,
            6,
            5,
        ]  # 9: the export request itself
        shown = json.dumps(bot.emulator.state.shown(), ensure_ascii=False)
        assert "More matched than the export limit of 5" in shown


def test_user_by_name_finds_someone_the_bot_has_seen(bot: BotHarness) -> None:
    _seed(bot, 8)
    unknown, _ = _answer(bot.signer.slash_command(ALICE, "audit user:@bob"))
    assert "I know no one named `@bob`" in unknown
    bot.signer.slash_command(BOB, "whoami")  # the bot now knows bob's profile
    assert _all_pages(bot, "user:@bob") == _expected(bot, lambda r: r.actor == BOB)
