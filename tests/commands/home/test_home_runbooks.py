"""Runbook runs waiting for a risky step's approval on the App Home, through the emulator
(Slack tier): the runner's pending request (not cancellable), the approvers' Approve and
Deny (the feature's own buttons), and both tabs following the approval."""

from __future__ import annotations

import json
from pathlib import Path

from bot.core.config import ApprovalConfig, PolicyRule
from commands.home.config import HomeSection
from commands.home.ids import ActionId as HomeAction
from commands.runbooks.ids import ActionId
from tests.commands.home.driving import click_home, home_drops, home_shows, open_home
from tests.commands.new_db.driving import told
from tests.commands.runbooks.conftest import (
    ALICE,
    BOB,
    CAROL,
    RunbookBot,
    runbook_config,
    start_bot,
)

DAVE = "U0DAVE"  # neither the runner, nor an admin, nor a lead of payments
FLUSH = """\
name: flush
title: Flush <the> caches
owner: payments
steps:
  - name: Warm up
    command: {program: echo, args: [warm]}
  - name: Flush everything
    risky: true
    command: {program: echo, args: [flushed]}
"""


def test_a_run_waiting_for_approval_is_on_the_runners_and_the_approvers_homes(
    tmp_path: Path, migrated_schema: Path
) -> None:
    runbook_dir = tmp_path / "runbooks"
    runbook_dir.mkdir()
    (runbook_dir / "flush.yaml").write_text(FLUSH)
    rule = PolicyRule(
        action="runbook.risky",
        allow=["everyone"],
        approval=ApprovalConfig(approvers=["role:admin", "lead:owner"], channel=BOB),
    )
    config = runbook_config(runbook_dir, rule)
    config = config.model_copy(update={"home": HomeSection(refresh_seconds=0.1)})
    with start_bot(tmp_path, migrated_schema, config) as bot:
        rb = RunbookBot(bot)
        rb.submit(BOB, rb.open_form(BOB, "runbook run flush"))
        run = rb.wait_run("waiting_approval")
        ref = f"run-{run.id}"

        bob = json.dumps(open_home(rb, BOB).spec["blocks"])
        assert f"`{ref}` run step 2 (Flush everything) of runbook Flush &lt;the&gt; caches" in bob
        assert "pending approval" in bob and "0 of 1 approvals" in bob
        assert HomeAction.CANCEL not in bob  # it has started: only an approver can stop it
        assert bot.signer.slash_command(BOB, f"cancel {ref}").status == 200
        assert told(rb, BOB, "has already started, so it cannot be cancelled")
        assert bot.signer.slash_command(CAROL, f"cancel {ref}").status == 200
        assert told(rb, CAROL, f"You have no request `{ref}`")  # not hers to cancel

        dave = json.dumps(open_home(rb, DAVE).spec["blocks"])
        assert "Nothing is waiting for you." in dave and ref not in dave
        carol = open_home(rb, CAROL)
        assert "<@U0BOB> asks to run step 2 (Flush everything)" in json.dumps(carol.spec)
        assert "Platform today" in json.dumps(open_home(rb, ALICE).spec)  # the admin's count
        assert "Approvals pending: *1*" in json.dumps(bot.emulator.state.home(ALICE).spec)  # type: ignore[union-attr]

        click_home(rb, CAROL, ActionId.APPROVE, str(run.id))
        rb.wait_run("succeeded")
        assert home_drops(rb, BOB, ref)  # the runner's tab follows without reopening it
        assert home_shows(rb, CAROL, "Nothing is waiting for you.")
        assert home_shows(rb, ALICE, "Approvals pending: *0*")
