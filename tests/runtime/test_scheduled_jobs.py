"""`/platform jobs`, built without a bot: every job on one line, packed into sections that stay
inside Slack's 3,000 characters each (checked by the emulator's Block Kit checker)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.core.mrkdwn import SECTION_TEXT_LIMIT
from bot.core.scheduler import ScheduledJobInfo
from bot.emulator.blockkit import check_message_blocks
from bot.runtime.scheduled_jobs import build_jobs
from tests.hostile import HOSTILE_TEXT, RAW_MARKERS

NEXT = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
HEADER = {"type": "section", "text": {"type": "mrkdwn", "text": "*Scheduled jobs*"}}
# Lines are packed below the section limit, with room to spare.
PACKED = 2900


def _sections(jobs: list[ScheduledJobInfo]) -> list[str]:
    blocks: list[Any] = build_jobs(jobs)
    assert check_message_blocks(blocks) == []
    assert blocks[0] == HEADER
    return [block["text"]["text"] for block in blocks[1:]]


def _job(n: int, description: str = "NPS rounds that are due") -> ScheduledJobInfo:
    return ScheduledJobInfo(id=f"job-{n:03d}", next_run_time=NEXT, description=description)


def test_no_jobs_says_when_they_appear() -> None:
    blocks = build_jobs([])

    assert check_message_blocks(blocks) == []
    assert blocks == [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": "No scheduled jobs are stored yet (the leader writes them when it starts).",
            },
        }
    ]


def test_each_job_shows_its_id_what_it_does_and_when_it_runs_next() -> None:
    paused = ScheduledJobInfo(id="nps:pulse", next_run_time=None, description="NPS pulse")

    assert _sections([_job(1)]) == [
        "• `job-001` — NPS rounds that are due; next 2026-12-01 09:30 UTC"
    ]
    assert _sections([_job(1), paused]) == [
        "• `job-001` — NPS rounds that are due; next 2026-12-01 09:30 UTC\n"
        "• `nps:pulse` — NPS pulse; next paused"
    ]


def test_many_jobs_fill_several_sections_each_inside_the_limit() -> None:
    jobs = [_job(n, "d" * 150) for n in range(100)]

    sections = _sections(jobs)

    assert len(sections) > 1
    assert all(len(section) <= PACKED < SECTION_TEXT_LIMIT for section in sections)
    lines = "\n".join(sections).split("\n")
    assert [line.split("`")[1] for line in lines] == [job.id for job in jobs]


@pytest.mark.parametrize(("length", "sections"), [(PACKED, 1), (PACKED + 1, 2)])
def test_lines_share_a_section_up_to_the_packing_limit(length: int, sections: int) -> None:
    first = _job(1)
    line = len(_sections([first])[0])
    # The second line is `line` long plus its extra description, after one newline.
    second = _job(2, first.description + "x" * (length - 2 * line - 1))

    shown = _sections([first, second])

    assert len(shown) == sections
    assert len("\n".join(shown)) == length


def test_job_text_is_shown_as_text() -> None:
    job = ScheduledJobInfo(id=HOSTILE_TEXT, next_run_time=None, description=HOSTILE_TEXT)

    (section,) = _sections([job])

    assert not any(marker in section for marker in RAW_MARKERS)
    assert section.startswith("• `&lt;!channel&gt; &lt;https://evil.example/sso|")
