"""Coalescing of progress-message edits: quick steps share an edit, slow ones all show."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from commands.new_db.jobs.progress import ProgressEdits
from commands.new_db.service.types import MessageRef, RequestInfo, ResourceInfo, Step

REF = MessageRef("D0BOB", "1.0")
INFO = RequestInfo(
    id="r1",
    action="db.create",
    status="approved",
    requester_id="U0BOB",
    resource=ResourceInfo(
        id="x1",
        engine="postgres",
        engine_label="PostgreSQL",
        name="orders-db",
        tier="dev",
        team="payments",
        owner_id="U0BOB",
        plan="small",
        status="provisioning",
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        expires_at=None,
        vault_path=None,
    ),
    ttl_hours=None,
    reason=None,
    approvals_needed=0,
    approved_by=(),
    denied_by=(),
    expires_at=None,
    approval_message=None,
    progress_message=None,
    outcome_detail=None,
)


class Edits:
    def __init__(self) -> None:
        self.steps: list[Step] = []
        self.changed = threading.Event()

    def edit_progress(self, ref: MessageRef, request: RequestInfo, step: Step) -> None:
        self.steps.append(step)
        self.changed.set()


def test_without_an_interval_every_step_is_shown() -> None:
    seen = Edits()
    edits = ProgressEdits(seen.edit_progress, REF, interval=0)
    for step in (Step.CHECKING, Step.CREATING_DATABASE, Step.GRANTING):
        edits.show(INFO, step)
    edits.close()
    assert seen.steps == [Step.CHECKING, Step.CREATING_DATABASE, Step.GRANTING]


def test_steps_quicker_than_the_interval_make_no_edit_before_the_final_one() -> None:
    seen = Edits()
    edits = ProgressEdits(seen.edit_progress, REF, interval=30)
    edits.show(INFO, Step.CHECKING)
    edits.show(INFO, Step.CREATING_DATABASE)
    edits.close()
    time.sleep(0.05)
    assert seen.steps == []


def test_a_slow_step_is_shown_within_the_interval_and_nothing_after_close() -> None:
    seen = Edits()
    edits = ProgressEdits(seen.edit_progress, REF, interval=0.05)
    edits.show(INFO, Step.CHECKING)
    edits.show(INFO, Step.CREATING_DATABASE)
    assert seen.changed.wait(5)
    assert seen.steps == [Step.CREATING_DATABASE]
    edits.show(INFO, Step.GRANTING)
    edits.close()
    time.sleep(0.1)
    assert seen.steps == [Step.CREATING_DATABASE]
