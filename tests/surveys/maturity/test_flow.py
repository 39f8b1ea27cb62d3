"""A maturity round end to end through the emulator: start, DMs to the leads, the modal,
reminders, per-team levels against an independent calculation, the chart and the trend."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.emulator.workspace import Workspace
from surveys.maturity.ids import ActionId, BlockId
from surveys.maturity.models import MaturityAnswer, MaturityRespondent
from tests.surveys.conftest import SurveyBot, survey_bot

ADMIN = "U00000000"
OUTSIDER = "U00000019"  # in no team
LEADS = {
    "alpha": ["U00000001", "U00000002", "U00000003"],
    "beta": ["U00000004", "U00000005"],
    "gamma": ["U00000006"],  # one lead: under the minimum group size of 2
}
DIMENSIONS = ("adoption", "interfaces", "measurement")


def _dimension(key: str) -> str:
    levels = "\n".join(
        f'        {n}: {{label: "{key} label {n}", '
        f'description: "{key} at level {n} looks like this"}}'
        for n in range(1, 6)
    )
    return (
        f"    - key: {key}\n      name: {key.title()}\n"
        f"      question: Where does the team stand on {key}?\n      levels:\n{levels}\n"
    )


CONFIG = f"""
platform: {{name: Test Platform, timezone: Europe/Berlin}}
roles:
  admin: {{members: [{ADMIN}]}}
teams:
  alpha: {{name: Alpha, leads: {LEADS["alpha"]}}}
  beta: {{name: Beta, leads: {LEADS["beta"]}}}
  gamma: {{name: Gamma, leads: {LEADS["gamma"]}}}
  delta: {{name: Delta, members: [U00000010]}}
policies:
  - {{action: maturity.start, allow: ["role:admin"]}}
  - {{action: maturity, allow: [everyone]}}
surveys:
  admin_channel: C0GENERAL
  delivery:
    working_hours: {{start: "00:00", end: "23:59", days: [mon, tue, wed, thu, fri, sat, sun]}}
maturity:
  attribute_to: team
  min_group_size: 2
  open_days: 7
  reminders: {{count: 1, every_hours: 24}}
  dimensions:
{"".join(_dimension(key) for key in DIMENSIONS)}"""
START = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
# Each lead's levels for adoption, interfaces, measurement.
ROUND_1 = {
    "U00000001": (2, 3, 1),
    "U00000002": (3, 4, 2),
    "U00000003": (4, 3, 2),
    "U00000004": (2, 5, 1),
    "U00000005": (3, 5, 3),
    "U00000006": (5, 5, 5),
}


@pytest.fixture
def bot(tmp_path: Path, migrated_schema: Path) -> Iterator[SurveyBot]:
    with survey_bot(
        tmp_path,
        CONFIG,
        workspace=Workspace.generate(users=20),
        start=START,
        schema=migrated_schema,
    ) as b:
        yield b


def _tick(bot: SurveyBot) -> None:
    bot.feature("maturity").tick()
    bot.run_jobs()


def _invitations(bot: SurveyBot, user: str) -> list[object]:
    return [m for m in bot.dm_messages(user) if "Assess the team" in str(m.blocks)]


def _open_modal(bot: SurveyBot, user: str, invite: Any = None) -> str:
    """Click the invitation's button (`invite`: as a DM showed it before it was edited)."""
    invite = invite or _invitations(bot, user)[0]
    before = {view.id for view in bot.emulator.state.modal_stack(user)}
    bot.signer.block_action(
        user,
        action_id=ActionId.TAKE,
        message=(invite.channel, invite.ts),
        shown_blocks=invite.blocks,
    )

    def opened() -> str | None:
        stack = bot.emulator.state.modal_stack(user)
        return stack[-1].id if stack and stack[-1].id not in before else None

    assert bot.emulator.wait_for(lambda: opened() is not None)
    return str(opened())


def _submit(bot: SurveyBot, user: str, view_id: str, levels: tuple[int, ...]) -> None:
    values = {
        f"{BlockId.DIMENSION_PREFIX}{key}": {ActionId.LEVEL: str(level)}
        for key, level in zip(DIMENSIONS, levels, strict=True)
    }
    bot.signer.view_submission(user, view_id, values)


def _answer(bot: SurveyBot, user: str, levels: tuple[int, ...]) -> None:
    _submit(bot, user, _open_modal(bot, user), levels)


def _expected_level(answers: list[int]) -> int:
    """The lower median, worked out the plain way."""
    ordered = sorted(answers)
    return ordered[(len(ordered) - 1) // 2]


def _shown(bot: SurveyBot, user: str, text: str) -> str:
    response = bot.signer.slash_command(user, text)
    assert response.status == 200
    return str(response.json)


def test_a_round_to_three_teams_gives_levels_per_team_and_the_platform_chart(
    bot: SurveyBot,
) -> None:
    assert "Maturity round 1 is open" in _shown(bot, ADMIN, "maturity start")
    bot.run_jobs()
    leads = [lead for team in LEADS.values() for lead in team]
    for lead in leads:
        assert len(_invitations(bot, lead)) == 1, lead
    everyone_else = [u.id for u in bot.emulator.workspace.humans if u.id not in leads]
    assert all(not _invitations(bot, user) for user in everyone_else)

    late = "U00000003"
    for lead, levels in ROUND_1.items():
        if lead != late:
            _answer(bot, lead, levels)
    bot.clock.advance(hours=24, minutes=1)
    _tick(bot)
    for lead in leads:
        expected = 2 if lead == late else 1
        assert len(bot.dm_messages(lead)) == expected, lead
    assert bot.dm_messages(late)[-1].text.startswith("A gentle reminder")
    _answer(bot, late, ROUND_1[late])
    assert bot.emulator.wait_for(lambda: "Thanks!" in bot.dm_messages(late)[-1].text)

    for team in ("alpha", "beta"):
        shown = _shown(bot, ADMIN, f"maturity {team}")
        for index, key in enumerate(DIMENSIONS):
            level = _expected_level([ROUND_1[lead][index] for lead in LEADS[team]])
            assert f"{key.title()}: level {level}*" in shown, (team, key, shown)
            if level < 5:
                assert f"What level {level + 1} looks like:_ {key} at level {level + 1}" in shown
            else:
                assert "This is the top level" in shown
    gamma = _shown(bot, ADMIN, "maturity gamma")
    assert "Not enough answers yet" in gamma and "level 5" not in gamma

    overview = _shown(bot, OUTSIDER, "maturity")
    assert "2 of 3 team(s) with enough answers" in overview
    assert "1 team(s) not counted" in overview
    # adoption: alpha 3, beta 2; gamma (one lead) is not counted.
    assert "Adoption: L1 0 · L2 1 · L3 1 · L4 0 · L5 0" in overview
    assert bot.emulator.wait_for(
        lambda: any(
            f["name"] == "maturity-round-1.png" and f["content"].startswith(b"\x89PNG")
            for f in bot.emulator.state.files
        ),
        timeout=20,
    )


def test_answers_attributed_to_the_team_hold_no_user_id(bot: SurveyBot) -> None:
    _shown(bot, ADMIN, "maturity start")
    bot.run_jobs()
    for lead in LEADS["beta"]:
        _answer(bot, lead, ROUND_1[lead])
    with bot.services.sessions() as session:
        answers = session.scalars(select(MaturityAnswer)).all()
        respondents = session.scalars(select(MaturityRespondent)).all()
    assert len(answers) == 2 * len(DIMENSIONS)
    stored = {str(value) for answer in answers for value in vars(answer).values()}
    assert not stored & set(LEADS["beta"])
    assert {r.user_id for r in respondents} == set(LEADS["beta"])


def test_a_second_answer_is_refused_and_counted_once(bot: SurveyBot) -> None:
    _shown(bot, ADMIN, "maturity start")
    bot.run_jobs()
    lead = "U00000004"
    invite = _invitations(bot, lead)[0]
    _answer(bot, lead, (1, 1, 1))
    _open_modal(bot, lead, invite)  # the button again: a notice, not the questions
    assert "first answer stands" in str(bot.emulator.state.modal_stack(lead)[-1].spec)
    # A second submission that passed the first check before the first one was stored.
    answers = bot.feature("maturity").answers
    round_, _ = answers.round_for_answer(1, "beta", lead)
    levels = dict.fromkeys(DIMENSIONS, 5)
    outcome, _ = answers.answer(round_id=round_.id, team="beta", user_id=lead, levels=levels)
    assert outcome == "already_answered"
    _answer(bot, "U00000005", (1, 1, 1))
    with bot.services.sessions() as session:
        stored = session.scalars(select(MaturityAnswer.level)).all()
        respondents = session.scalars(select(MaturityRespondent)).all()
    assert sorted(stored) == [1] * 6
    assert len(respondents) == 2
    assert "Adoption: level 1*" in _shown(bot, ADMIN, "maturity beta")


def test_the_trend_shows_each_dimension_over_rounds(bot: SurveyBot) -> None:
    _shown(bot, ADMIN, "maturity start")
    bot.run_jobs()
    for lead in LEADS["beta"]:
        _answer(bot, lead, (2, 3, 1))
    assert "still open" in _shown(bot, ADMIN, "maturity start")  # one round at a time
    bot.clock.advance(days=7, minutes=1)
    _tick(bot)
    closed = [m.text for m in bot.emulator.state.messages("C0GENERAL")]
    assert any("Maturity round 1 has closed: 1 team(s) answered" in t for t in closed)

    _shown(bot, ADMIN, "maturity start")
    bot.run_jobs()
    for lead in LEADS["beta"]:
        _answer(bot, lead, (3, 3, 2))
    shown = _shown(bot, LEADS["beta"][0], "maturity")  # a lead's own team
    assert "Trend (rounds 1, 2)" in shown
    assert "Adoption 2 → 3" in shown and "Interfaces 3 → 3" in shown
    assert "Measurement 1 → 2" in shown


def test_an_unknown_team_is_named_in_the_error(bot: SurveyBot) -> None:
    _shown(bot, ADMIN, "maturity start")
    shown = _shown(bot, ADMIN, "maturity payments")
    assert "no team called `payments`" in shown
    assert "did not ask Delta" in _shown(bot, ADMIN, "maturity delta")


def test_only_admins_start_a_round(bot: SurveyBot) -> None:
    shown = _shown(bot, OUTSIDER, "maturity start")
    assert "round 1 is open" not in shown
    assert not any(_invitations(bot, lead) for lead in LEADS["alpha"])
