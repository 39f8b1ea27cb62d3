"""`/platform docs refresh`: refresh the index now and DM the requester the outcome."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.core.jobs import JobContext
from commands.docs.service.index import DocsIndex, RefreshOutcome
from integrations.protocols import Messenger


class RefreshJob:
    def __init__(
        self,
        *,
        index: DocsIndex,
        messenger: Messenger,
        report: Callable[[RefreshOutcome], tuple[str, list[dict[str, Any]]]],
    ) -> None:
        self._index = index
        self._messenger = messenger
        # The Block Kit report is the feature's views', handed in by feature.py.
        self._report = report

    def run(self, ctx: JobContext) -> None:
        outcome = self._index.refresh()
        requester = ctx.payload.get("requester")
        if requester:
            text, blocks = self._report(outcome)
            self._messenger.post(requester, text=text, blocks=blocks)

    def on_failure(self, ctx: JobContext, error_message: str) -> None:
        requester = ctx.payload.get("requester")
        if requester:
            self._messenger.post(requester, text="The docs refresh failed; see the bot's log.")
