"""`/platform audit` as one Feature: admins page through and export the audit log.

No tables of its own: it reads the core's `audit_record` (and `identity_user` for names).
`build` wires the reader, the handlers, the paging buttons and the export job.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.core.feature import ConfigSection, Core, Listener, ListenerKind, Parts
from bot.core.router import Subcommand
from commands.audit.config import AuditSection
from commands.audit.handlers import AUDIT_USAGE, AuditHandlers
from commands.audit.ids import ActionId, JobKind, PolicyAction
from commands.audit.jobs import ExportJob
from commands.audit.service.filters import Directory
from commands.audit.service.query import AuditReader

ACTION_WORDS: dict[str, str] = {
    PolicyAction.READ: "read the audit log",
    PolicyAction.EXPORT: "export the audit log",
}


@dataclass(frozen=True)
class AuditFeature:
    name: str = "audit"
    sections: Sequence[ConfigSection] = (ConfigSection("audit", AuditSection),)
    models: str | None = None
    migrations: Path | None = None

    def build(self, core: Core) -> Parts[AuditReader]:
        section = core.section("audit", AuditSection)
        core.policy.describe_actions(ACTION_WORDS)
        reader = AuditReader(sessions=core.sessions, clock=core.clock)
        directory = Directory(
            user_named=reader.user_named,
            teams=tuple(core.config.teams),
            team_members=core.identity.team_members,
        )
        handlers = AuditHandlers(
            reader=reader,
            directory=directory,
            policy=core.policy,
            identity=core.identity,
            jobs=core.jobs,
            audit=core.audit,
            export_limit=section.export_max_records,
        )
        export = ExportJob(
            reader=reader,
            directory=directory,
            messenger=core.messenger,
            audit=core.audit,
            limit=section.export_max_records,
            clock=core.clock,
        )
        return Parts(
            api=reader,
            subcommands=[
                Subcommand(
                    name="audit",
                    summary="Read the audit log: who did what, when, and how it ended (admins).",
                    usage=AUDIT_USAGE,
                    example="/platform audit action:db.* since:7d",
                    action=PolicyAction.READ,
                    handler=handlers.handle_audit,
                )
            ],
            listeners=[
                Listener(ListenerKind.ACTION, ActionId.PAGE_NEWER, handlers.handle_page),
                Listener(ListenerKind.ACTION, ActionId.PAGE_OLDER, handlers.handle_page),
            ],
            job_handlers={JobKind.EXPORT: export},
        )


FEATURE = AuditFeature()
