"""Slack listeners of `/platform docs`: search, refresh, stats, and the helpfulness votes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_bolt import Ack, Respond

from bot.core.audit import AuditLog, Outcome
from bot.core.errors import InvalidInput, NotAllowed
from bot.core.identity import Principal
from bot.core.jobs import JobQueue
from bot.core.policy import Policy
from bot.core.router import CommandContext
from commands.docs import views
from commands.docs.ids import ActionId, JobKind, PolicyAction
from commands.docs.service.index import DocsIndex
from commands.docs.service.votes import DocsVotes

DOCS_USAGE = "/platform docs QUERY  ·  /platform docs refresh | stats (admins)"
_ADMIN_WORDS = {"refresh": PolicyAction.REFRESH, "stats": PolicyAction.STATS}


class DocsHandlers:
    def __init__(
        self,
        *,
        index: DocsIndex,
        votes: DocsVotes,
        policy: Policy,
        jobs: JobQueue,
        audit: AuditLog,
        sites: Sequence[tuple[str, str]],
    ) -> None:
        self._index = index
        self._votes = votes
        self._policy = policy
        self._jobs = jobs
        self._audit = audit
        self._sites = sites

    def handle_docs(self, ctx: CommandContext) -> None:
        words = [arg.lower() for arg in ctx.args]
        if len(words) == 1 and words[0] in _ADMIN_WORDS:
            self._require(ctx.principal, _ADMIN_WORDS[words[0]])
            if words[0] == "refresh":
                self._refresh(ctx)
            else:
                self._stats(ctx)
            return
        if not ctx.arg_text.strip():
            raise InvalidInput("Search the docs for what? e.g. `/platform docs new database`")
        result = self._index.search(ctx.arg_text)
        if not result.hits and self._index.page_count() == 0:
            # A fresh install answers before its first refresh has finished.
            ctx.ack(views.build_not_indexed_yet())
            return
        text, blocks = views.build_results(result, self._sites)
        ctx.ack(text, blocks=blocks)

    def _require(self, principal: Principal, action: str) -> None:
        decision = self._policy.can(principal, action)
        if not decision.allowed:
            raise NotAllowed(decision.reason)

    def _refresh(self, ctx: CommandContext) -> None:
        # One job per command request: a Slack retry of the same request finds it queued.
        ref = self._jobs.enqueue(
            kind=JobKind.REFRESH,
            payload={"requester": ctx.user_id},
            idempotency_key=f"docs.refresh:{ctx.idempotency_key}",
        )
        self._audit.record(
            actor=ctx.user_id,
            action=PolicyAction.REFRESH,
            outcome=Outcome.REQUESTED,
            idempotency_key=ctx.idempotency_key,
        )
        ctx.ack(views.build_refresh_started() if ref.created else "A refresh is already running.")

    def _stats(self, ctx: CommandContext) -> None:
        problems, shown = self._index.problems()
        text, blocks = views.build_stats(
            self._index.page_count(),
            self._votes.least_helpful(),
            problems,
            [(p.tree, p.path, p.problem) for p in shown],
        )
        ctx.ack(text, blocks=blocks)

    def handle_vote(self, ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        """Yes / No under an answer: one vote per person and page a day, the latest counts."""
        ack()
        action = body["actions"][0]
        helpful = action["action_id"] == ActionId.HELPFUL
        try:
            tree, path = views.parse_vote(str(action.get("value", "")))
        except InvalidInput as error:
            respond(text=error.message, response_type="ephemeral", replace_original=False)
            return
        user_id = body["user"]["id"]
        title = self._votes.record(user_id=user_id, tree=tree, path=path, helpful=helpful)
        respond(
            text=views.build_vote_thanks(title, helpful),
            response_type="ephemeral",
            replace_original=False,
        )
