"""`/platform stats` through the emulator: admins see teams, reasons and get the chart; others
see the platform-wide figures only. And the same figures as Prometheus gauges."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY, generate_latest

from bot.core.db import SessionFactory
from bot.emulator.blockkit import check_message_blocks
from commands.stats.feature import Stats
from tests.clock import Clock
from tests.commands.stats.seeding import NOW, ago, audit, csat, nps_round, use
from tests.harness import BotHarness, running_bot

ALICE = "U0ALICE"  # admin
BOB = "U0BOB"  # payments, not an admin


def seed(sessions: SessionFactory) -> None:
    for user in ("U1", "U2", "U3", "U4", "U5"):  # five people of platform: shown
        use(sessions, user, "platform", "new-db", ago(days=2))
    use(sessions, "U6", "search", "owner", ago(days=2))  # one person of search: cut
    audit(
        sessions,
        "db.create",
        "requested",
        ago(days=1),
        target="postgres:a",
        engine="postgres",
        driver="local",
    )
    audit(sessions, "db.create", "succeeded", ago(days=1, seconds=-90), target="postgres:a")
    # A driver named by no `Driver` gets no series (labels come from fixed sets only).
    audit(sessions, "env.create", "requested", ago(days=1), target="env:z", driver="made-up")
    audit(sessions, "env.create", "succeeded", ago(days=1, seconds=-30), target="env:z")
    audit(sessions, "db.create", "requested", ago(hours=3), target="redis:b", engine="redis")
    audit(sessions, "db.create", "failed", ago(hours=2), target="redis:b", detail="failed: boom")
    # The example config's campaign `quarterly` and CSAT both need 5 answers for a figure.
    nps_round(sessions, "quarterly", 1, ago(days=20), [10, 10, 9, 7, 3])
    nps_round(sessions, "quarterly", 2, ago(days=3), [10, 10, 10, 10])
    for hours, score in enumerate([5, 4, 4, 5, 2], start=1):
        csat(sessions, "db.create", ago(hours=hours), score)


@pytest.fixture
def bot(tmp_path: Path, migrated_schema: Path) -> Iterator[BotHarness]:
    with running_bot(tmp_path, schema=migrated_schema, clock=Clock(NOW)) as running:
        seed(running.services.sessions)
        yield running


def text(blocks: object) -> str:
    return json.dumps(blocks)


def answer_to(bot: BotHarness, user: str, command: str) -> dict[str, Any]:
    """The figures, which come after the ack (as an ephemeral answer to `user`)."""
    before = len(bot.emulator.state.ephemerals(user))
    assert bot.signer.slash_command(user, command).status == 200
    assert bot.emulator.wait_for(lambda: len(bot.emulator.state.ephemerals(user)) > before)
    shown = bot.emulator.state.ephemerals(user)[-1]
    return {"text": shown.text, "blocks": shown.blocks}


def test_admins_see_teams_failures_the_trend_and_get_the_charts(bot: BotHarness) -> None:
    answer = answer_to(bot, ALICE, "stats 30d")
    assert check_message_blocks(answer["blocks"]) == []
    shown = text(answer["blocks"])
    assert "Weekly active users*\\n6" in shown
    assert "`/platform new-db`: 5" in shown and "`/platform owner`: 1" in shown
    assert "`platform`: 5 uses by 5 people" in shown
    assert "`search`: fewer than 5 people" in shown
    assert "`db.create`: 2 requested, 50% succeeded" in shown
    assert "`postgres`: p50 90 s, p90 90 s (1)" in shown
    assert "failed: 1" in shown  # the reason, without what followed its colon
    # The trend: a round with a score, one under the group size, and a week of ratings.
    assert "`quarterly` round 1, opened" in shown
    assert "*NPS +40* from 5 answers (3 promoters, 1 passive, 1 detractor)" in shown
    assert "`quarterly` round 2, opened" in shown and "4 answers, fewer than 5: no score" in shown
    assert "`db.create` *4.0* (5 ratings)" in shown
    assert "/platform nps" not in shown
    charts = {f"platform-stats-{name}-30d.png" for name in ("active", "nps-quarterly", "csat")}
    state = bot.emulator.state

    def shared_in_dm() -> set[str]:
        dm = state.dm_channel(ALICE)
        messages = state.messages(dm) if dm else []
        return {file["name"] for m in messages for file in m.files or []}

    assert bot.emulator.wait_for(lambda: shared_in_dm() == charts, timeout=10)
    assert {f["name"] for f in state.files} == charts
    assert all(f["content"].startswith(b"\x89PNG") for f in state.files)


def test_others_see_platform_wide_figures_only(bot: BotHarness) -> None:
    answer = answer_to(bot, BOB, "stats")
    assert check_message_blocks(answer["blocks"]) == []
    shown = text(answer["blocks"])
    assert "last 30 days" in shown and "Weekly active users*\\n6" in shown
    assert "Uses per team" not in shown and "`platform`" not in shown
    assert "Failures by reason" not in shown
    assert "NPS per round" not in shown and "quarterly" not in shown
    assert not bot.emulator.state.files


def test_a_bad_period_names_the_choices(bot: BotHarness) -> None:
    answer = bot.signer.slash_command(BOB, "stats 5y").json
    assert "7d, 30d or 90d" in answer["text"]


def test_an_empty_week_says_so(tmp_path: Path, migrated_schema: Path) -> None:
    with running_bot(tmp_path, schema=migrated_schema, clock=Clock(NOW)) as running:
        answer = answer_to(running, ALICE, "stats 7d")
    shown = text(answer["blocks"])
    assert "last 7 days" in shown and "none in this period" in shown
    assert not running.emulator.state.files  # no chart of nothing


def test_the_gauges_expose_the_figures_with_fixed_labels(bot: BotHarness) -> None:
    api = bot.feature("stats")
    assert isinstance(api, Stats)
    use(bot.services.sessions, "U7", None, "not-a-command", ago(days=1))
    api.gauges.refresh()
    exposition = generate_latest(REGISTRY).decode()
    assert 'platform_bot_stats_active_users{window="7d"} 7.0' in exposition
    assert 'platform_bot_stats_command_uses{subcommand="new-db"} 5.0' in exposition
    assert 'subcommand="not-a-command"' not in exposition  # not a registered name
    assert 'platform_bot_stats_team_uses{team="platform"} 5.0' in exposition
    assert 'team="search"' not in exposition  # under the group size
    assert 'platform_bot_stats_success_ratio{action="db.create"} 0.5' in exposition
    assert 'platform_bot_stats_provision_seconds{engine="postgres",quantile="0.5"} 90.0' in (
        exposition
    )
    assert (
        'platform_bot_stats_provision_by_driver_seconds{driver="local",quantile="0.9"} 90.0'
        in exposition
    )
    assert 'driver="made-up"' not in exposition
    # The latest round with a score (round 2 has too few answers), and the last 7 days' CSAT.
    assert 'platform_bot_stats_nps{campaign="quarterly"} 40.0' in exposition
    assert 'platform_bot_stats_nps_answers{campaign="quarterly",kind="detractor"} 1.0' in (
        exposition
    )
    assert 'platform_bot_stats_csat_average{action="db.create"} 4.0' in exposition
    assert 'platform_bot_stats_csat_ratings{action="db.create"} 5.0' in exposition
