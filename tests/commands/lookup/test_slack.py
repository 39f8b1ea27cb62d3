"""The lookups through the Slack emulator, over signed HTTP, on the example config."""

from __future__ import annotations

import io
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.emulator import Shell
from bot.emulator.blockkit import check_message_blocks
from bot.runtime.config import load_config
from commands.lookup.ids import ActionId, BlockId
from tests.conftest import REPO_ROOT
from tests.harness import BotHarness, running_bot
from tests.hostile import HOSTILE_TEXT, raw_markup_shown


def _start(tmp_path: Path, config_path: Path) -> Any:
    config = load_config(config_path, environ={})
    return running_bot(tmp_path, config=config, config_path=config_path)


@pytest.fixture
def bot(tmp_path: Path, migrated_schema: Path) -> Iterator[BotHarness]:
    with running_bot(tmp_path, schema=migrated_schema) as running:
        assert running.services.feature("lookup").ready.wait(20), "the catalog index did not load"
        yield running


def _answer(response: Any) -> str:
    assert response.status == 200
    return str(response.json.get("text", "")) + str(response.json.get("blocks", ""))


def test_owner_over_signed_http(bot: BotHarness) -> None:
    text = _answer(bot.signer.slash_command("U0DAVE", "owner payments-api"))
    assert "is owned by *Payments* (#payments)" in text
    assert "<@U0BOB>, <@U0CAROL>" in text  # catalog members mapped to Slack by email


def test_oncall_shows_now_and_next_in_the_readers_time_zone(bot: BotHarness) -> None:
    # dave reads in Asia/Kolkata; the payments rotation hands off at 09:00 Europe/London.
    text = _answer(bot.signer.slash_command("U0DAVE", "oncall payments-api"))
    assert "*Now:* <@U0" in text and "*Next:* <@U0" in text
    # 09:00 in London is 14:30 IST in winter and 13:30 IST in summer.
    assert re.search(r"until Mon \d\d \w{3} (14:30|13:30) IST", text), text


def test_the_service_card_shows_owner_channel_oncall_links_and_buttons(bot: BotHarness) -> None:
    response = bot.signer.slash_command("U0BOB", "service payments-api")
    text = _answer(response)
    for expected in (
        "Payments API",
        "Authorises, captures and refunds card payments",
        "*Lifecycle*\\nproduction",
        "*System*\\nCheckout",
        "*Owner*\\n*Payments* (#payments)",
        "*On call now*\\n<@U0",
        "*Next on call*\\n<@U0",
        "https://github.com/acme/payments-api",
        "https://runbooks.acme.example/payments-api",
        "https://grafana.acme.example/d/payments-api",
        "Page on-call",
        "https://backstage.acme.example/catalog/default/component/payments-api",
    ):
        assert expected in text, expected
    assert "EST" in text or "EDT" in text  # bob reads in America/New_York


def test_the_service_card_lists_the_runbooks_of_the_service(bot: BotHarness) -> None:
    """examples/runbooks/restart-deployment.yaml names `service: orders-api`; nothing names
    payments-api."""
    orders = bot.signer.slash_command("U0BOB", "service orders-api")
    check_message_blocks(orders.json["blocks"])
    assert (
        "*Runbooks:* `/platform runbook run restart-deployment` (Restart a deployment)"
        in _answer(orders)
    )
    payments = _answer(bot.signer.slash_command("U0BOB", "service payments-api"))
    assert "Payments API" in payments
    assert "runbook run" not in payments and BlockId.CARD_RUNBOOKS not in payments


def test_catalog_search_and_its_bad_input(bot: BotHarness) -> None:
    text = _answer(bot.signer.slash_command("U0BOB", "catalog serch"))
    assert "search-service" in text
    long = _answer(bot.signer.slash_command("U0BOB", "catalog " + "x" * 5000))
    assert "5,000 characters long; the limit is 200" in long
    empty = _answer(bot.signer.slash_command("U0BOB", "owner"))
    assert "Give a name" in empty
    unknown = _answer(bot.signer.slash_command("U0BOB", "service paymnts-api"))
    assert "I found nothing called `paymnts-api`" in unknown and "`payments-api`" in unknown


def test_an_ambiguous_name_offers_a_menu_and_the_choice_answers(bot: BotHarness) -> None:
    response = bot.signer.slash_command("U0BOB", "oncall payments")
    assert "Which one?" in _answer(response)
    [ephemeral] = bot.emulator.state.ephemerals("U0BOB")
    bot.signer.block_action(
        "U0BOB",
        action_id=ActionId.PICK_ENTITY,
        selected_option="oncall|group:default/payments",
        message=(ephemeral.channel, ephemeral.ts),
    )
    assert bot.emulator.wait_for(
        lambda: any(
            "On call for payments" in e.text for e in bot.emulator.state.ephemerals("U0BOB")
        )
    )


def test_catalog_refresh_is_for_admins_and_reports_by_dm(bot: BotHarness) -> None:
    denied = _answer(bot.signer.slash_command("U0BOB", "catalog refresh"))
    assert "Only admins may" in denied
    started = _answer(bot.signer.slash_command("U0ALICE", "catalog refresh"))
    assert "Refreshing the catalog index" in started

    def reported() -> bool:
        channel = bot.emulator.state.dm_channel("U0ALICE")
        return channel is not None and any(
            "Catalog refreshed from files" in m.text for m in bot.emulator.messages(channel)
        )

    assert bot.emulator.wait_for(reported, timeout=10)


def test_page_oncall_asks_a_reason_confirms_and_pages_once(bot: BotHarness) -> None:
    bot.signer.slash_command("U0DAVE", "service payments-api")
    [card] = bot.emulator.state.ephemerals("U0DAVE")
    bot.signer.block_action(
        "U0DAVE",
        action_id=ActionId.PAGE_ONCALL,
        value="component:default/payments-api",
        message=(card.channel, card.ts),
    )
    # The modal opens right after the ack, so it may land just after the HTTP answer.
    assert bot.emulator.wait_for(lambda: bool(bot.emulator.state.modal_stack("U0DAVE")))
    [reason_view] = bot.emulator.state.modal_stack("U0DAVE")
    too_short = bot.signer.view_submission(
        "U0DAVE", reason_view.id, {BlockId.REASON: {ActionId.REASON: "x"}}
    )
    assert too_short.json["response_action"] == "errors"
    bot.signer.view_submission(
        "U0DAVE", reason_view.id, {BlockId.REASON: {ActionId.REASON: "checkout 500s"}}
    )
    [confirm] = bot.emulator.state.modal_stack("U0DAVE")
    assert "Page *<@U0" in str(confirm.spec["blocks"]) and "checkout 500s" in str(
        confirm.spec["blocks"]
    )
    bot.signer.view_submission("U0DAVE", confirm.id)
    # A double click: the same modal submitted again pages nobody a second time.
    bot.signer.view_submission("U0DAVE", confirm.id)

    def dms(user: str) -> list[str]:
        channel = bot.emulator.state.dm_channel(user)
        return [m.text for m in bot.emulator.messages(channel)] if channel else []

    oncall_status = bot.services.feature("lookup").oncall("payments-api").oncall
    assert oncall_status is not None
    paged = oncall_status.current[0].person.slack_user_id
    assert paged is not None
    assert bot.emulator.wait_for(
        lambda: any("Paged the on-call" in t for t in dms("U0DAVE")), timeout=30
    )
    bot.emulator.wait_idle()
    assert [t for t in dms(paged) if "is paging you" in t] == [
        ":rotating_light: <@U0DAVE> is paging you as the on-call for *payments-api*.\n"
        "*Reason:* checkout 500s"
    ]


def test_a_malformed_catalog_file_is_skipped_and_the_rest_answers(tmp_path: Path) -> None:
    shutil.copytree(REPO_ROOT / "examples", tmp_path / "examples")
    (tmp_path / "examples" / "catalog" / "broken").mkdir()
    (tmp_path / "examples" / "catalog" / "broken" / "catalog-info.yaml").write_text(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: broken}\n"
        "spec: {type: service}\n"
    )
    config = yaml.safe_load((REPO_ROOT / "platform.example.yaml").read_text())
    config_path = tmp_path / "platform.yaml"
    config_path.write_text(yaml.safe_dump(config))
    with _start(tmp_path, config_path) as running:
        assert running.services.feature("lookup").ready.wait(20)
        assert "is owned by" in _answer(running.signer.slash_command("U0BOB", "owner orders-api"))
        started = _answer(running.signer.slash_command("U0ALICE", "catalog refresh"))
        assert "Refreshing" in started

        def reported() -> str:
            channel = running.emulator.state.dm_channel("U0ALICE")
            texts = [str(m.blocks) for m in running.emulator.messages(channel)] if channel else []
            return next((t for t in texts if "skipped" in t), "")

        assert running.emulator.wait_for(lambda: bool(reported()), timeout=10)
        assert "broken/catalog-info.yaml" in reported()
        assert "spec.lifecycle: required for kind Component" in reported()


def test_a_shell_transcript(bot: BotHarness) -> None:
    stdout = io.StringIO()
    shell = Shell(
        bot.emulator,
        bot.signer,
        user="carol",
        channel="payments",
        stdin=io.StringIO(
            "/platform owner search-service\n/platform oncall search\n/platform catalog orders\n"
        ),
        stdout=stdout,
        interactive=False,
    )
    assert shell.run() == 0
    output = stdout.getvalue()
    assert "search-service (component) is owned by Search (#search)." in output
    assert "Members: @dave" in output
    assert "On call for search (rotation `search`)" in output
    # The search rotation hands off Mondays 10:00 in Kolkata; carol reads in London.
    assert re.search(r"Now: @dave until Mon \d\d \w{3} (04:30 GMT|05:30 BST)", output), output
    assert "1. orders-api (component, owner Payments)" in output


def test_a_guest_sees_the_card_but_cannot_page(bot: BotHarness) -> None:
    response = bot.signer.slash_command("U0ERIN", "service orders-api")
    text = _answer(response)
    assert "Orders API" in text and "Page on-call" not in text


def _hostile_catalog(tmp_path: Path) -> Path:
    """The example setup plus a team and a service whose texts are all HOSTILE_TEXT."""
    shutil.copytree(REPO_ROOT / "examples", tmp_path / "examples")
    hostile = {"title": HOSTILE_TEXT, "description": f"**Careful:** {HOSTILE_TEXT}"}
    documents = [
        {"apiVersion": "backstage.io/v1alpha1", "kind": "Group",
         "metadata": {"name": "red-team", **hostile,
                      "annotations": {"slack.com/bot-notify": HOSTILE_TEXT}},
         "spec": {"type": "team", "children": [], "members": ["bob"],
                  "profile": {"displayName": HOSTILE_TEXT}}},
        {"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
         "metadata": {"name": "red-api", **hostile,
                      "annotations": {"platform-bot/rotation": "payments"},
                      "links": [{"url": "https://runbooks.acme.example", "title": HOSTILE_TEXT}]},
         "spec": {"type": HOSTILE_TEXT, "lifecycle": HOSTILE_TEXT, "owner": "red-team",
                  "system": "checkout"}},
        {"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
         "metadata": {"name": "red-tagged", "tags": [HOSTILE_TEXT]},
         "spec": {"type": "service", "lifecycle": "production", "owner": "red-team"}},
    ]  # fmt: skip
    (tmp_path / "examples" / "catalog" / "red").mkdir()
    (tmp_path / "examples" / "catalog" / "red" / "catalog-info.yaml").write_text(
        yaml.safe_dump_all(documents)
    )
    config_path = tmp_path / "platform.yaml"
    config_path.write_text((REPO_ROOT / "platform.example.yaml").read_text())
    return config_path


def test_hostile_catalog_text_and_page_reasons_never_reach_slack_as_markup(tmp_path: Path) -> None:
    with _start(tmp_path, _hostile_catalog(tmp_path)) as running:
        assert running.services.feature("lookup").ready.wait(20)
        signer, emulator = running.signer, running.emulator
        for command in ("owner red-api", "owner red-team", "oncall red-api", "oncall red-team",
                        "catalog careful", "catalog red", "service red-api"):  # fmt: skip
            assert signer.slash_command("U0DAVE", command).status == 200
        card = emulator.state.ephemerals("U0DAVE")[-1]
        assert "Page on-call" in str(card.blocks)
        signer.block_action(
            "U0DAVE",
            action_id=ActionId.PAGE_ONCALL,
            value="component:default/red-api",
            message=(card.channel, card.ts),
        )
        # The click is answered before the modal opens (views.open follows the ack).
        assert emulator.wait_for(lambda: bool(emulator.state.modal_stack("U0DAVE")))
        [reason_view] = emulator.state.modal_stack("U0DAVE")
        signer.view_submission(
            "U0DAVE", reason_view.id, {BlockId.REASON: {ActionId.REASON: HOSTILE_TEXT}}
        )
        [confirm] = emulator.state.modal_stack("U0DAVE")
        signer.view_submission("U0DAVE", confirm.id)
        assert signer.slash_command("U0ALICE", "catalog refresh").status == 200

        def dms(user: str) -> str:
            channel = emulator.state.dm_channel(user)
            return str([(m.text, m.blocks) for m in emulator.messages(channel)] if channel else "")

        assert emulator.wait_for(lambda: "is paging you" in dms("U0BOB") + dms("U0CAROL"))
        assert emulator.wait_for(lambda: "Paged the on-call" in dms("U0DAVE"))
        assert emulator.wait_for(lambda: "entries were skipped" in dms("U0ALICE"), timeout=10)
        emulator.wait_idle()

        assert "&lt;!channel&gt;" in dms("U0BOB") + dms("U0CAROL")  # the reason, shown as text
        assert "tags.0" in dms("U0ALICE")  # the skipped entity, its reason quoting the tag
        assert raw_markup_shown(emulator) == []


def test_catalog_filters_are_documented_and_work_over_http(bot: BotHarness) -> None:
    help_text = _answer(bot.signer.slash_command("U0BOB", "help catalog"))
    assert "[kind:K] [type:T] [owner:TEAM] [lifecycle:L]" in help_text
    listed = _answer(bot.signer.slash_command("U0BOB", "catalog kind:api"))
    assert "entries with `kind:api`" in listed and "*payments* (api" in listed
    narrowed = _answer(bot.signer.slash_command("U0BOB", "catalog \u201cpayments\u201d kind:group"))
    assert "Top 1 for `payments kind:group`" in narrowed
