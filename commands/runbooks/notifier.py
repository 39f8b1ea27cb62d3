"""`RunNotifier` over the Messenger port: the run's thread, its buttons and approval cards.

Every call swallows (and logs) Slack errors: a message that cannot be posted must not undo
or repeat the step it reports on. No method receives a secret (steps' `shown` texts mask
them, outputs are redacted before they get here).
"""

from __future__ import annotations

import logging
from typing import Any

from bot.core.mrkdwn import escape
from commands.runbooks import views
from commands.runbooks.render import Rendered
from commands.runbooks.service.ports import Thread
from integrations.errors import IntegrationError
from integrations.protocols import Messenger

logger = logging.getLogger(__name__)


class SlackRunNotifier:
    def __init__(self, messenger: Messenger) -> None:
        self._messenger = messenger

    def _post(
        self, channel: str, text: str, blocks: list[Any], thread: str | None = None
    ) -> Thread | None:
        try:
            posted = self._messenger.post(channel, text=text[:300], blocks=blocks, thread_ts=thread)
        except IntegrationError as error:
            logger.warning("runbooks: could not post to %s: %s", channel, error)
            return None
        return posted.channel, posted.ts

    def start_thread(self, user_id: str, text: str) -> Thread | None:
        return self._post(user_id, text, views.build_text(text))

    def reply(self, thread: Thread | None, text: str) -> None:
        if thread is not None:
            self._post(thread[0], text, views.build_text(text), thread=thread[1])

    def post(self, channel: str, text: str) -> str | None:
        try:
            self._messenger.post(channel, text=text[:300], blocks=views.build_text(escape(text)))
        except IntegrationError as error:
            return str(error)[:200]
        return None

    def ask_confirmation(self, thread: Thread | None, run_id: int, step: Rendered) -> None:
        if thread is not None:
            blocks = views.build_confirmation(run_id, step)
            self._post(thread[0], f"Continue with step {step.index + 1}?", blocks, thread=thread[1])

    def ask_approval(
        self, channel: str, run_id: int, runbook: str, runner: str, step: Rendered, approvers: str
    ) -> None:
        blocks = views.build_approval(run_id, runbook, runner, step, approvers)
        self._post(channel, f"Approve a risky runbook step of {runbook}?", blocks)

    def tell(self, user_id: str, text: str) -> None:
        self._post(user_id, text, views.build_text(text))
