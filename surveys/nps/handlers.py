"""Slack listeners for NPS: `/platform nps …`, the DM buttons and the survey modal."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.core.errors import InvalidInput, NotAllowed
from bot.core.feedback import ActionFeedback
from bot.core.policy import Policy
from bot.core.router import CommandContext
from integrations.errors import IntegrationError
from integrations.protocols import Messenger
from surveys.nps import views
from surveys.nps.ids import BlockId
from surveys.nps.service.answers import AnswerService
from surveys.nps.service.campaigns import CampaignService
from surveys.nps.service.fanout import FanOutService
from surveys.nps.service.ledger import NOT_SENT
from surveys.nps.service.results import ResultsService
from surveys.nps.service.types import AnswerOutcome

logger = logging.getLogger(__name__)

MANAGE_ACTION = "nps.manage"
EXPORT_ACTION = "nps.export"
USAGE = "/platform nps [CAMPAIGN] | list | pause NAME | resume NAME | run NAME | export [NAME]"


class CommandHandlers:
    """`/platform nps …`: results for everyone, campaign management and export for admins."""

    def __init__(
        self,
        *,
        campaigns: CampaignService,
        results: ResultsService,
        feedback: ActionFeedback,
        policy: Policy,
        messenger: Messenger,
    ) -> None:
        self._campaigns = campaigns
        self._results = results
        self._feedback = feedback
        self._policy = policy
        self._messenger = messenger

    def handle_nps(self, ctx: CommandContext) -> None:
        verb = ctx.args[0].lower() if ctx.args else None
        rest = ctx.args[1:]
        if verb in ("list", "pause", "resume", "run"):
            self._require(ctx, MANAGE_ACTION)
        if verb == "list":
            ctx.ack("NPS campaigns", blocks=views.build_campaign_list(self._campaigns.campaigns()))
        elif verb in ("pause", "resume"):
            name = self._one_name(rest, verb)
            changed = self._campaigns.set_paused(name, paused=verb == "pause", actor=ctx.user_id)
            done = "paused" if verb == "pause" else "resumed"
            ctx.ack(
                f"Campaign `{name}` {done}."
                if changed
                else f"Campaign `{name}` was already {done}."
            )
        elif verb == "run":
            name = self._one_name(rest, verb)
            round_ = self._campaigns.run_now(name, actor=ctx.user_id)
            ctx.ack(
                f"Round {round_.number} of `{name}` is open until "
                f"{round_.closes_at:%Y-%m-%d %H:%M} UTC. Invitations go out in each person's "
                f"working hours; `/platform nps {name}` shows how many have gone out."
            )
        elif verb == "export":
            self._require(ctx, EXPORT_ACTION)
            export_name = rest[0] if rest else None
            if export_name is not None:
                self._campaigns.campaign(export_name)
            ctx.ack("Preparing the CSV export; it will arrive in a DM.")
            filename, content = self._results.export_csv(export_name, actor=ctx.user_id)
            self._upload_to_dm(ctx, filename, content, "NPS answers export")
        else:
            if len(ctx.args) > 1:
                raise InvalidInput(f"Usage: `{USAGE}`")
            results = self._results.results(verb)
            ctx.ack(
                f"NPS results for {results.campaign}",
                blocks=views.build_results(results, self._feedback.summary()),
            )
            chart = self._results.trend_chart(results)
            if chart is not None:
                self._upload_to_dm(ctx, f"nps-{results.campaign}-trend.png", chart, "NPS trend")

    def _require(self, ctx: CommandContext, action: str) -> None:
        decision = self._policy.can(ctx.principal, action)
        if not decision.allowed:
            raise NotAllowed(decision.reason)

    @staticmethod
    def _one_name(rest: list[str], verb: str) -> str:
        if len(rest) != 1:
            raise InvalidInput(f"Usage: `/platform nps {verb} CAMPAIGN`")
        return rest[0]

    def _upload_to_dm(self, ctx: CommandContext, filename: str, content: bytes, title: str) -> None:
        # Files go to the caller's DM: the bot may not be a member of the channel the command
        # came from, and results are for the person who asked.
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


def _nobody(_people: Collection[str]) -> None:
    return None


class SurveyHandlers:
    """The survey DM's buttons and the survey modal (the App Home offers the same Take
    button, so its click comes here too)."""

    def __init__(
        self,
        *,
        answers: AnswerService,
        fanout: FanOutService,
        changed: Callable[[Collection[str]], None] = _nobody,
    ) -> None:
        self._answers = answers
        self._fanout = fanout
        self._changed = changed
        """`Core.dashboard.changed`: an answered round leaves the person's App Home."""

    def handle_take(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        user_id = body["user"]["id"]
        round_id = int(body["actions"][0]["value"])
        round_, refusal = self._answers.round_for_answer(round_id, user_id)
        if refusal is AnswerOutcome.NOT_INVITED:
            view = views.build_notice_modal(NOT_SENT)
        elif refusal is AnswerOutcome.CLOSED:
            view = views.build_notice_modal(_closed_text(round_.closes_at))
        elif refusal is AnswerOutcome.ALREADY_ANSWERED:
            view = views.build_notice_modal(ALREADY_ANSWERED)
        else:
            view = views.build_survey_modal(round_)
        client.views_open(trigger_id=body["trigger_id"], view=view)

    def handle_snooze(self, ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        at = self._fanout.snooze(int(body["actions"][0]["value"]), body["user"]["id"])
        respond(
            text=f"OK, I'll send it again <!date^{int(at.timestamp())}^{{date_short_pretty}} at "
            f"{{time}}|{at:%Y-%m-%d %H:%M} UTC>.",
            response_type="ephemeral",
            replace_original=False,
        )

    def handle_answer(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        parsed = views.parse_answer(view)
        if parsed.score is None:
            ack(response_action="errors", errors={BlockId.SCORE: "Pick a score from 0 to 10."})
            return
        outcome, round_ = self._answers.answer(
            round_id=parsed.round_id,
            user_id=body["user"]["id"],
            score=parsed.score,
            comment=parsed.comment,
        )
        if outcome is AnswerOutcome.NOT_INVITED:
            ack(response_action="errors", errors={BlockId.SCORE: NOT_SENT})
            return
        if outcome is AnswerOutcome.CLOSED and round_ is not None:
            ack(
                response_action="update",
                view=views.build_notice_modal(_closed_text(round_.closes_at)),
            )
            return
        if outcome is AnswerOutcome.ALREADY_ANSWERED:
            ack(response_action="update", view=views.build_notice_modal(ALREADY_ANSWERED))
            return
        ack()
        if round_ is not None:
            self._answers.thank(round_, user_id=body["user"]["id"], score=parsed.score)
        self._changed({body["user"]["id"]})


ALREADY_ANSWERED = "You have already answered this round; your first answer stands. Thank you!"


def _closed_text(closes_at: Any) -> str:
    return f"This survey is closed: it took answers until {closes_at:%Y-%m-%d %H:%M} UTC."
