"""A runbook run end to end through the emulator: parameters, a real local HTTP server, an
allowlisted command, a confirmation, a message; failures, refusals and approvals stop or
hold it with a clear message, and the audit log shows every step."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bot.core.config import ApprovalConfig, PolicyRule
from bot.emulator.blockkit import check_message_blocks, check_view
from commands.runbooks.ids import ActionId
from tests.commands.runbooks.conftest import (
    BOB,
    CAROL,
    PLATFORM,
    SECRET,
    RunbookBot,
    Seen,
    runbook_config,
    start_bot,
)

DEPLOY = """\
name: deploy
title: Deploy a service
owner: payments
service: orders-api
parameters:
  - name: service
    pattern: "[a-z][a-z0-9-]{{0,30}}"
  - name: replicas
    type: int
    min: 1
    max: 5
    default: 2
steps:
  - name: Call the deploy API
    http:
      method: POST
      url: {base}/deploy/${{params.service}}
      headers: {{Authorization: "Bearer ${{secret:DEPLOY_TOKEN}}"}}
      body: {{replicas: "${{params.replicas}}", by: "${{runner}}"}}
      expect: [200]
  - name: Echo
    command: {{program: echo, args: [deployed, "${{params.service}}"]}}
  - confirm: The API took it. Announce it?
  - message: {{channel: "#platform", text: "Deployed ${{params.service}} <!channel>"}}
"""


def _write(directory: Path, name: str, text: str) -> None:
    (directory / f"{name}.yaml").write_text(text)


def _click(rb: RunbookBot, user: str, action: str, channel_user: str = BOB) -> Any:
    """Click `action` on the newest message that has it in `channel_user`'s DM."""

    def found() -> list[Any]:
        return [m for m in rb.dm(channel_user) if action in json.dumps(m.blocks)]

    assert rb.bot.emulator.wait_for(lambda: bool(found())), rb.dm_text(channel_user)
    message = found()[-1]
    run_id = next(
        e["value"]
        for b in message.blocks
        if b.get("type") == "actions"
        for e in b["elements"]
        if e["action_id"] == action
    )
    return rb.bot.signer.block_action(
        user, action_id=action, value=run_id, message=(message.channel, message.ts)
    )


def _audit(rb: RunbookBot) -> list[tuple[str, str, str]]:
    entries = rb.bot.services.audit.recent(limit=100)
    return [(e.action, e.outcome, e.target or "") for e in reversed(entries)]


def test_a_run_with_parameters_calls_http_runs_a_command_asks_and_posts(
    tmp_path: Path, migrated_schema: Path, runbook_dir: Path, http_server: tuple[str, Seen]
) -> None:
    base, seen = http_server
    _write(runbook_dir, "deploy", DEPLOY.format(base=base))
    with start_bot(tmp_path, migrated_schema, runbook_config(runbook_dir)) as bot:
        rb = RunbookBot(bot)
        view = rb.open_form(BOB, "runbook run deploy")
        check_view(view.spec)
        refused = rb.submit(BOB, view, service="Orders API", replicas="9")
        errors = refused.json["errors"]
        assert "does not match the pattern" in errors["param_service"]
        assert "at most 5" in errors["param_replicas"]
        assert rb.runs() == [] and seen.requests == []

        rb.submit(BOB, view, service="orders-api", replicas="3")
        run = rb.wait_run("waiting_confirmation")
        assert seen.requests == [
            {
                "path": "/deploy/orders-api",
                "headers": seen.requests[0]["headers"],
                "body": {"replicas": 3, "by": BOB},
            }
        ]
        assert seen.requests[0]["headers"]["Authorization"] == f"Bearer {SECRET}"
        shown = rb.dm_text(BOB)
        assert "Step 1 done: HTTP 200" in shown and "deployed orders-api" in shown
        assert not bot.emulator.state.messages(PLATFORM)

        _click(rb, BOB, ActionId.CONTINUE)
        rb.wait_run("succeeded")
        posted = [
            m for m in bot.emulator.state.messages(PLATFORM) if "Deployed" in json.dumps(m.blocks)
        ]
        assert len(posted) == 1 and "Deployed orders-api &lt;!channel&gt;" in json.dumps(
            posted[0].blocks
        )
        for message in rb.dm(BOB):
            check_message_blocks(message.blocks)
        assert SECRET not in rb.dm_text(BOB)

    steps = [(a, o, t) for a, o, t in _audit(rb) if a == "runbook.run.step"]
    assert [(o, t.rsplit(" ", 1)[-1]) for _, o, t in steps] == [
        ("succeeded", "1"),
        ("succeeded", "2"),
        ("succeeded", "4"),
    ]
    actions = [a for a, _, _ in _audit(rb)]
    assert actions[0] == "runbook.run" and "runbook.run.confirm" in actions
    assert actions[-1] == "runbook.run.finish"
    assert run.id == rb.runs()[-1].id


def test_a_failing_step_stops_the_run_with_its_output_redacted_and_cut(
    tmp_path: Path, migrated_schema: Path, runbook_dir: Path, http_server: tuple[str, Seen]
) -> None:
    base, seen = http_server
    seen.status = 500
    seen.body = "upstream said: Authorization={auth} " + "x" * 5000
    _write(runbook_dir, "deploy", DEPLOY.format(base=base))
    with start_bot(tmp_path, migrated_schema, runbook_config(runbook_dir)) as bot:
        rb = RunbookBot(bot)
        rb.submit(BOB, rb.open_form(BOB, "runbook run deploy"), service="orders-api")
        run = rb.wait_run("failed")
        shown = rb.told(BOB, "failed: HTTP 500")
        assert "Step 1 (Call the deploy API) failed: HTTP 500, expected 200." in shown
        assert "upstream said" in shown and "[redacted]" in shown
        assert SECRET not in shown and SECRET not in json.dumps(_audit(rb))
        assert "x" * 300 not in shown  # cut to output_chars (200)
        assert "deployed" not in shown  # the next step never ran
        assert run.failure is not None and "HTTP 500" in run.failure
    assert ("runbook.run.step", "failed") in [(a, o) for a, o, _ in _audit(rb)]


def test_a_refused_step_and_a_failing_command_stop_the_run(
    tmp_path: Path, migrated_schema: Path, runbook_dir: Path
) -> None:
    _write(
        runbook_dir,
        "guarded",
        """\
name: guarded
title: Guarded
owner: payments
steps:
  - command: {program: echo, args: [first]}
  - name: Admins only
    risky: true
    action: runbook.admin-only
    command: {program: echo, args: [second]}
""",
    )
    _write(
        runbook_dir,
        "broken",
        "name: broken\ntitle: Broken\nowner: payments\nsteps:\n  - command: {program: 'false'}\n",
    )
    admin_only = PolicyRule(action="runbook.admin-only", allow=["role:admin"])
    with start_bot(tmp_path, migrated_schema, runbook_config(runbook_dir, admin_only)) as bot:
        rb = RunbookBot(bot)
        rb.submit(BOB, rb.open_form(BOB, "runbook run guarded"))
        run = rb.wait_run("stopped")
        shown = rb.told(BOB, "was refused")
        assert "Step 2 (Admins only) was refused" in shown and "admins" in shown
        assert "first" in shown and "second" not in shown
        assert run.failure is not None and "refused" in run.failure
        assert ("runbook.run.step", "rejected") in [(a, o) for a, o, _ in _audit(rb)]

        rb.submit(BOB, rb.open_form(BOB, "runbook run broken"))
        rb.wait_run("failed")
        rb.told(BOB, "failed: exit status 1")


def test_a_risky_step_waits_for_an_approver_who_is_not_the_runner(
    tmp_path: Path, migrated_schema: Path, runbook_dir: Path
) -> None:
    _write(
        runbook_dir,
        "flush",
        """\
name: flush
title: Flush
owner: payments
steps:
  - risky: true
    command: {program: echo, args: [flushed]}
""",
    )
    rule = PolicyRule(
        action="runbook.risky",
        allow=["everyone"],
        approval=ApprovalConfig(approvers=["role:admin", "lead:owner"], channel=BOB),
    )
    with start_bot(tmp_path, migrated_schema, runbook_config(runbook_dir, rule)) as bot:
        rb = RunbookBot(bot)
        rb.submit(BOB, rb.open_form(BOB, "runbook run flush"))
        rb.wait_run("waiting_approval")
        rb.told(BOB, "waits for approval")
        assert "Step 1 done" not in rb.dm_text(BOB)
        _click(rb, BOB, ActionId.APPROVE)
        assert bot.emulator.wait_for(
            lambda: any(
                "cannot approve your own" in e.text for e in bot.emulator.state.ephemerals(BOB)
            )
        )
        assert rb.runs()[-1].status == "waiting_approval"
        _click(rb, CAROL, ActionId.APPROVE)
        rb.wait_run("succeeded")
        rb.told(BOB, "Step 1 done: exit status 0.\n```flushed")
    assert ("runbook.approve", "approved") in [(a, o) for a, o, _ in _audit(rb)]


def test_a_dry_run_shows_the_rendered_steps_and_runs_nothing(
    tmp_path: Path, migrated_schema: Path, runbook_dir: Path, http_server: tuple[str, Seen]
) -> None:
    base, seen = http_server
    _write(runbook_dir, "deploy", DEPLOY.format(base=base))
    with start_bot(tmp_path, migrated_schema, runbook_config(runbook_dir)) as bot:
        rb = RunbookBot(bot)
        view = rb.open_form(BOB, "runbook run deploy --dry-run")
        answer = rb.submit(BOB, view, service="a b/../x")
        assert "param_service" in answer.json["errors"]
        answer = rb.submit(BOB, view, service="orders-api")
        modal = answer.json["view"]
        check_view(modal)
        text = json.dumps(modal)
        assert "Dry run of Deploy a service" in text
        assert f"POST {base}/deploy/orders-api" in text
        assert "[secret DEPLOY_TOKEN]" in text and SECRET not in text
        assert "/usr/bin/echo deployed orders-api" in text or "echo deployed orders-api" in text
        assert seen.requests == [] and rb.runs() == []


def test_the_same_request_starts_one_run(
    tmp_path: Path, migrated_schema: Path, runbook_dir: Path
) -> None:
    _write(runbook_dir, "hi", "name: hi\ntitle: Hi\nowner: payments\nsteps:\n  - confirm: go?\n")
    with start_bot(tmp_path, migrated_schema, runbook_config(runbook_dir)) as bot:
        rb = RunbookBot(bot)
        principal = bot.services.identity.principal(BOB)
        first = rb.api.runs.start(principal, "hi", {}, "runbook:V1")
        again = rb.api.runs.start(principal, "hi", {}, "runbook:V1")
        assert first.created and not again.created and first.id == again.id
        rb.wait_run("waiting_confirmation")
        _click(rb, BOB, ActionId.STOP)
        rb.wait_run("stopped")
        assert len(rb.runs()) == 1


def test_list_shows_the_runbooks_of_a_service_and_says_when_there_are_none(
    tmp_path: Path, migrated_schema: Path, runbook_dir: Path, http_server: tuple[str, Seen]
) -> None:
    _write(runbook_dir, "deploy", DEPLOY.format(base=http_server[0]))
    with start_bot(tmp_path, migrated_schema, runbook_config(runbook_dir)) as bot:
        state = bot.emulator.state
        for text in ("runbook list orders-api", "runbook list <!here>", "runbook run nope"):
            assert bot.signer.slash_command(BOB, text).status == 200
        assert bot.emulator.wait_for(lambda: len(state.ephemerals(BOB)) == 3)
        listed, other, unknown = (e.text + json.dumps(e.blocks) for e in state.ephemerals(BOB))
        assert "Deploy a service" in listed and "/platform runbook run deploy" in listed
        assert "There is no runbook for `&lt;!here&gt;`" in other
        assert "There is no runbook `nope`" in unknown
        for shown in state.ephemerals(BOB):
            check_message_blocks(shown.blocks)
