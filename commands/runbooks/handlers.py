"""Slack listeners of `/platform runbook …`, its modal and its buttons.

Each acks first (or acks with field errors), then calls the service and renders. A button
whose action is refused raises the domain error after acking; the global error handler
shows it to the clicker only.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack

from bot.core.errors import InvalidInput, PlatformError
from bot.core.identity import IdentityService
from bot.core.mrkdwn import escape
from bot.core.router import CommandContext
from commands.runbooks import views
from commands.runbooks.render import ParamsInvalid
from commands.runbooks.service.runs import RunbookRuns

JSON = dict[str, Any]
RUNBOOK_USAGE = "/platform runbook list [SERVICE] | run NAME [--dry-run]"


def _run_id(body: JSON) -> int:
    value = str(body["actions"][0].get("value") or "")
    if not value.isdigit() or len(value) > 12:
        raise InvalidInput("This button no longer names a run.")
    return int(value)


class RunbookHandlers:
    def __init__(self, *, runs: RunbookRuns, identity: IdentityService) -> None:
        self._runs = runs
        self._identity = identity

    def handle_runbook(self, ctx: CommandContext) -> None:
        args = [a for a in ctx.args if a != "--dry-run"]
        verb = args[0].lower() if args else "list"
        if verb in ("list", "ls"):
            service = args[1] if len(args) > 1 else None
            text, blocks = views.build_list(self._runs.visible(ctx.principal, service), service)
            ctx.ack(text, blocks=blocks)
        elif verb == "run" and len(args) > 1:
            loaded = self._runs.find(ctx.principal, args[1])
            modal = views.build_form_modal(
                loaded.runbook, dry_run="--dry-run" in ctx.args, channel=ctx.channel_id
            )
            ctx.ack()
            ctx.client.views_open(trigger_id=ctx.trigger_id, view=modal)
        elif verb == "run":
            ctx.ack(f"Which runbook? `{RUNBOOK_USAGE}` (see `/platform runbook list`).")
        else:
            ctx.ack(
                f"`/platform runbook {escape(verb[:20])}` is not something I know. "
                f"Usage: `{RUNBOOK_USAGE}`"
            )

    def handle_form_submission(self, ack: Ack, body: JSON, view: JSON) -> None:
        principal = self._identity.principal(body["user"]["id"])
        name, raw, dry_run = views.parse_form(view)
        try:
            if dry_run:
                steps = self._runs.dry_run(principal, name, raw)
                loaded = self._runs.find(principal, name)
                ack(response_action="update", view=views.build_dry_run_modal(loaded.runbook, steps))
                return
            run = self._runs.start(principal, name, raw, f"runbook:{view['id']}")
        except ParamsInvalid as invalid:
            ack(response_action="errors", errors={k: v[:150] for k, v in invalid.errors.items()})
            return
        except PlatformError as error:
            ack(
                response_action="update",
                view=views.build_notice_modal("Not started", error.message),
            )
            return
        text = (
            f"Run {run.id} of `{run.runbook}` started: progress comes step by step in a thread in "
            "your DMs with me."
            if run.created
            else f"Run {run.id} of `{run.runbook}` was already started by this form "
            f"({run.status.replace('_', ' ')})."
        )
        ack(response_action="update", view=views.build_notice_modal("Runbook started", text))

    def handle_continue(self, ack: Ack, body: JSON) -> None:
        ack()
        self._runs.decide(self._identity.principal(body["user"]["id"]), _run_id(body), go=True)

    def handle_stop(self, ack: Ack, body: JSON) -> None:
        ack()
        self._runs.decide(self._identity.principal(body["user"]["id"]), _run_id(body), go=False)

    def handle_approve(self, ack: Ack, body: JSON) -> None:
        ack()
        self._runs.approve(
            self._identity.principal(body["user"]["id"]), _run_id(body), approve=True
        )

    def handle_deny(self, ack: Ack, body: JSON) -> None:
        ack()
        self._runs.approve(
            self._identity.principal(body["user"]["id"]), _run_id(body), approve=False
        )


__all__ = ["RUNBOOK_USAGE", "RunbookHandlers"]
