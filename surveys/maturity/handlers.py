"""Slack listeners for maturity: `/platform maturity …`, the DM's button and the modal."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient

from bot.core.errors import Conflict, InvalidInput, NotAllowed
from bot.core.policy import Policy
from bot.core.router import CommandContext
from integrations.errors import IntegrationError
from integrations.protocols import Messenger
from surveys.maturity import views
from surveys.maturity.service.answers import AnswerService
from surveys.maturity.service.ledger import NOT_SENT
from surveys.maturity.service.results import ResultsService
from surveys.maturity.service.rounds import NOT_CONFIGURED, RoundService
from surveys.maturity.service.types import AnswerOutcome, RoundRef

logger = logging.getLogger(__name__)

START_ACTION = "maturity.start"
USAGE = "/platform maturity [TEAM] | start"
ALREADY_ANSWERED = "You have already assessed this team in this round; your first answer stands."
UNREADABLE = "This button or form could not be read. Open the assessment from its DM again."


class CommandHandlers:
    """`/platform maturity [TEAM]` for everyone; `/platform maturity start` for admins."""

    def __init__(
        self,
        *,
        rounds: RoundService,
        results: ResultsService,
        configured: bool,
        policy: Policy,
        messenger: Messenger,
    ) -> None:
        self._rounds = rounds
        self._results = results
        self._configured = configured
        self._policy = policy
        self._messenger = messenger

    def handle_maturity(self, ctx: CommandContext) -> None:
        if len(ctx.args) > 1:
            raise InvalidInput(f"Usage: `{USAGE}`")
        if not self._configured:
            raise Conflict(NOT_CONFIGURED)
        word = ctx.args[0].lower() if ctx.args else None
        if word == "start":
            decision = self._policy.can(ctx.principal, START_ACTION)
            if not decision.allowed:
                raise NotAllowed(decision.reason)
            round_ = self._rounds.start_now(actor=ctx.user_id)
            ctx.ack(
                f"Maturity round {round_.number} is open until {round_.closes_at:%Y-%m-%d %H:%M} "
                f"UTC. The leads of {len(round_.teams)} team(s) get a DM in their working hours."
            )
            return
        team = word or self._own_team(ctx)
        if team is None:
            overview = self._results.overview()
            ctx.ack("Platform maturity", blocks=views.build_overview(overview))
        else:
            result = self._results.team(team)
            ctx.ack(
                f"Platform maturity: {result.team_name}", blocks=views.build_team_result(result)
            )
            overview = self._results.overview()
        chart = self._results.chart(overview)
        if chart is not None:
            self._upload_to_dm(ctx, f"maturity-round-{overview.round_number}.png", chart)

    def _own_team(self, ctx: CommandContext) -> str | None:
        """The assessed team the caller leads, else one they are in; None: neither."""
        assessed = set(self._rounds.team_names)
        for mine in (ctx.principal.lead_of, ctx.principal.teams):
            found = sorted(mine & assessed)
            if found:
                return found[0]
        return None

    def _upload_to_dm(self, ctx: CommandContext, filename: str, content: bytes) -> None:
        # The caller's DM: the bot may not be in the channel the command came from.
        title = "Platform maturity: teams per level"
        try:
            dm = self._messenger.open_dm(ctx.user_id)
            self._messenger.upload(
                dm, filename=filename, content=content, title=title, comment=title
            )
        except IntegrationError:
            logger.exception("could not upload %s", filename)
            ctx.respond(
                text=f"I could not upload {filename}; try again.", response_type="ephemeral"
            )


class SurveyHandlers:
    """The invitation's button and the assessment modal."""

    def __init__(self, *, answers: AnswerService) -> None:
        self._answers = answers

    def handle_take(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        target = views.parse_round_and_team(body["actions"][0].get("value", ""))
        if target is None:
            view = views.build_notice_modal(UNREADABLE)
        else:
            user_id = body["user"]["id"]
            round_, refusal = self._answers.round_for_answer(target.round_id, target.team, user_id)
            if refusal is None:
                view = views.build_answer_modal(round_, self._answers.invitee(target.team))
            else:
                view = views.build_notice_modal(_refusal_text(refusal, round_))
        client.views_open(trigger_id=body["trigger_id"], view=view)

    def handle_answer(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        target = views.parse_round_and_team(view.get("private_metadata", ""))
        if target is None:
            ack(response_action="update", view=views.build_notice_modal(UNREADABLE))
            return
        user_id = body["user"]["id"]
        round_, refusal = self._answers.round_for_answer(target.round_id, target.team, user_id)
        levels = views.parse_levels(view)
        missing = views.missing_levels(round_, levels)
        if refusal is None and missing:
            ack(response_action="errors", errors=missing)
            return
        if refusal is None:
            refusal, _ = self._answers.answer(
                round_id=target.round_id,
                team=target.team,
                user_id=user_id,
                levels={d.key: levels[d.key] for d in round_.dimensions},
            )
        if refusal is not AnswerOutcome.RECORDED:
            ack(
                response_action="update",
                view=views.build_notice_modal(_refusal_text(refusal, round_)),
            )
            return
        ack()
        self._answers.thank(round_, team=target.team, user_id=user_id)


def _refusal_text(outcome: AnswerOutcome, round_: RoundRef) -> str:
    if outcome is AnswerOutcome.NOT_INVITED:
        return NOT_SENT
    if outcome is AnswerOutcome.CLOSED:
        return f"This round is closed: it took answers until {round_.closes_at:%Y-%m-%d %H:%M} UTC."
    return ALREADY_ANSWERED
