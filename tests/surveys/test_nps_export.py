"""The CSV export keeps the promise the invitation made: small groups are not named."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter

from bot.core.db import SessionFactory
from integrations.fakes import FakeMessenger
from integrations.protocols import DirectoryUser
from surveys.nps.feature import NpsServices
from surveys.nps.service.export import OTHER_TEAMS
from tests.clock import Clock
from tests.surveys.test_delivery import ALL_DAY, MONDAY, _service

SMALL = [f"U0SMALL{n}" for n in range(4)]  # min_group_size - 1
EXACT = [f"U0EXACT{n}" for n in range(5)]  # min_group_size
LONER = "U0LONER"  # in no team


def _config(anonymity: str) -> str:
    return f"""
teams:
  small: {{members: [{", ".join(SMALL)}]}}
  exact: {{members: [{", ".join(EXACT)}]}}
surveys:
  delivery:
    working_hours: {ALL_DAY}
  campaigns:
    - name: pulse
      schedule: "0 9 * * mon"
      audience: {{kind: everyone}}
      anonymity: {anonymity}
      min_group_size: 5
"""


def _nps(sessions: SessionFactory, clock: Clock, anonymity: str) -> NpsServices:
    people = [
        DirectoryUser(id=user, name=user.lower(), real_name=user)
        for user in [*SMALL, *EXACT, LONER]
    ]
    return _service(sessions, people, clock, FakeMessenger(), _config(anonymity))


def _round(nps: NpsServices, clock: Clock, answering: list[str]) -> None:
    round_ = nps.campaigns.run_now("pulse", actor="U0ADMIN")
    nps.fanout.prepare_round(round_.id)
    for n, user in enumerate(answering):
        clock.advance(minutes=7)
        outcome, _ = nps.answers.answer(
            round_id=round_.id, user_id=user, score=n % 11, comment=f"said by {user}"
        )
        assert outcome == "recorded", (user, outcome)
    clock.now = round_.closes_at


def _export(nps: NpsServices) -> list[dict[str, str]]:
    _, content = nps.results.export_csv("pulse", actor="U0ADMIN")
    return list(csv.DictReader(io.StringIO(content.decode())))


def _teams_by_round(rows: list[dict[str, str]]) -> dict[str, Counter[str]]:
    found: dict[str, Counter[str]] = {}
    for row in rows:
        found.setdefault(row["round"], Counter())[row["team"]] += 1
    return found


def test_an_anonymous_export_names_only_teams_of_at_least_the_group_size(
    sessions: SessionFactory,
) -> None:
    clock = Clock(MONDAY)
    nps = _nps(sessions, clock, "anonymous")
    _round(nps, clock, [*SMALL, *EXACT, LONER])
    _round(nps, clock, [*SMALL, *EXACT[:4]])  # the same team, one answer short this time
    rows = _export(nps)

    assert _teams_by_round(rows) == {
        "1": Counter({"exact": 5, OTHER_TEAMS: 5}),  # 4 of `small` and the one without a team
        "2": Counter({OTHER_TEAMS: 8}),
    }
    assert list(rows[0]) == [
        "campaign",
        "round",
        "round_date",
        "answered_on",
        "score",
        "team",
        "user_id",
        "comment",
    ]
    cells = [value for row in rows for value in row.values()]
    assert not [cell for cell in cells if re.search(r"\d\d:\d\d|T\d\d", cell)], "no times"
    assert {row["user_id"] for row in rows} == {""}
    assert {row["answered_on"] for row in rows} == {"2026-11-30", "2026-12-07"}
    assert {row["round_date"] for row in rows} == {"2026-11-30", "2026-12-07"}


def test_an_attributed_export_keeps_user_ids_and_still_hides_small_teams(
    sessions: SessionFactory,
) -> None:
    clock = Clock(MONDAY)
    nps = _nps(sessions, clock, "attributed")
    _round(nps, clock, [*SMALL, *EXACT])
    rows = _export(nps)
    assert {row["user_id"] for row in rows} == {*SMALL, *EXACT}
    assert {row["user_id"]: row["team"] for row in rows} == {
        **dict.fromkeys(SMALL, OTHER_TEAMS),
        **dict.fromkeys(EXACT, "exact"),
    }
