"""`/platform audit export`: the matching records as JSON Lines, uploaded to the admin's DM.

The filters travel in their canonical text and are parsed again here (a relative `since:`
is counted from when the job runs). A retry after a crash may upload the file again; it
never uploads a different selection than was asked for.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

from bot.core.audit import AuditLog, Outcome
from bot.core.errors import InvalidInput
from bot.core.jobs import JobContext, PermanentJobError
from commands.audit.ids import PolicyAction
from commands.audit.service.filters import Directory, parse_filters
from commands.audit.service.query import AuditReader
from integrations.protocols import Messenger


def export_comment(count: int, cut: bool, limit: int) -> str:
    if cut:
        return (
            f"The newest {count:,} matching audit records. More matched than the export "
            f"limit of {limit:,}: narrow the filters (e.g. since:) for the rest."
        )
    return f"{count:,} matching audit records, newest first."


class ExportJob:
    def __init__(
        self,
        *,
        reader: AuditReader,
        directory: Directory,
        messenger: Messenger,
        audit: AuditLog,
        limit: int,
        clock: Callable[[], datetime],
    ) -> None:
        self._reader = reader
        self._directory = directory
        self._messenger = messenger
        self._audit = audit
        self._limit = limit
        self._clock = clock

    def run(self, ctx: JobContext) -> None:
        requester = str(ctx.payload["requester"])
        filters = str(ctx.payload["filters"])
        now = self._clock()
        try:
            where = parse_filters(filters.split(), self._directory, now)
        except InvalidInput as error:  # e.g. the team left the config since: no retry helps
            raise PermanentJobError(error.message) from None
        documents, cut = self._reader.export(where, limit=self._limit)
        if documents:
            lines = [json.dumps(d, sort_keys=True, ensure_ascii=False) + "\n" for d in documents]
            self._messenger.upload(
                self._messenger.open_dm(requester),
                filename=f"audit-{now:%Y%m%d-%H%M%S}.jsonl",
                content="".join(lines).encode(),
                title="Audit log export",
                comment=export_comment(len(documents), cut, self._limit),
            )
        else:  # Slack refuses an empty file
            self._messenger.post(requester, text="No audit records match; nothing to export.")
        self._audit.record(
            actor=requester,
            action=PolicyAction.EXPORT,
            outcome=Outcome.SUCCEEDED,
            inputs={"filters": filters, "records": len(documents), "cut": cut},
            idempotency_key=f"audit.export:job:{ctx.job_id}",
        )

    def on_failure(self, ctx: JobContext, error_message: str) -> None:
        requester = ctx.payload.get("requester")
        if requester:
            self._messenger.post(
                str(requester), text="The audit export failed; see the bot's log, then try again."
            )
