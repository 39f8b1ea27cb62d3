"""Slack listeners of `/platform audit`: a page of the log, the paging buttons, the export."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, Respond

from bot.core.audit import AuditLog, Outcome
from bot.core.errors import NotAllowed, PlatformError
from bot.core.identity import IdentityService, Principal
from bot.core.jobs import JobQueue
from bot.core.policy import Policy
from bot.core.router import CommandContext
from commands.audit import views
from commands.audit.ids import JobKind, PolicyAction
from commands.audit.service.filters import AuditFilter, Directory, parse_filters
from commands.audit.service.query import AuditReader

AUDIT_USAGE = (
    "/platform audit [user:@NAME] [team:TEAM] [action:GLOB] [target:TEXT] [outcome:OUTCOME] "
    "[since:7d|YYYY-MM-DD]  ·  /platform audit export [filters]"
)


class AuditHandlers:
    def __init__(
        self,
        *,
        reader: AuditReader,
        directory: Directory,
        policy: Policy,
        identity: IdentityService,
        jobs: JobQueue,
        audit: AuditLog,
        export_limit: int,
    ) -> None:
        self._reader = reader
        self._directory = directory
        self._policy = policy
        self._identity = identity
        self._jobs = jobs
        self._audit = audit
        self._export_limit = export_limit

    def handle_audit(self, ctx: CommandContext) -> None:
        words = list(ctx.args)
        if words and words[0].lower() == "export":
            self._export(ctx, words[1:])
            return
        where = self._parse(words)
        text, blocks = views.build_page(self._reader.page(where), where.text())
        ctx.ack(text, blocks=blocks)

    def handle_page(self, ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        """Previous / Next: the clicker's rights and the filters are checked again."""
        ack()
        try:
            request = views.parse_page(str(body["actions"][0].get("value", "")))
            self._require(self._identity.principal(body["user"]["id"]), PolicyAction.READ)
            where = self._parse(request.filters.split())
            page = self._reader.page(
                where, older_than=request.older_than, newer_than=request.newer_than
            )
        except PlatformError as error:
            respond(text=error.message, response_type="ephemeral", replace_original=False)
            return
        text, blocks = views.build_page(page, where.text())
        respond(text=text, blocks=blocks, replace_original=True)

    def _export(self, ctx: CommandContext, words: list[str]) -> None:
        self._require(ctx.principal, PolicyAction.EXPORT)
        where = self._parse(words)
        # One job per command request: a Slack retry of the same request finds it queued.
        self._jobs.enqueue(
            kind=JobKind.EXPORT,
            payload={"requester": ctx.user_id, "filters": where.text()},
            idempotency_key=f"audit.export:{ctx.idempotency_key}",
        )
        self._audit.record(
            actor=ctx.user_id,
            action=PolicyAction.EXPORT,
            outcome=Outcome.REQUESTED,
            inputs={"filters": where.text()},
            idempotency_key=ctx.idempotency_key,
        )
        ctx.ack(views.build_export_started(where.text(), self._export_limit))

    def _parse(self, words: list[str]) -> AuditFilter:
        return parse_filters(words, self._directory, self._reader.now())

    def _require(self, principal: Principal, action: str) -> None:
        decision = self._policy.can(principal, action)
        if not decision.allowed:
            raise NotAllowed(decision.reason)
