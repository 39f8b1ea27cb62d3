"""`/platform runbook` as one Feature: config, tables, route, buttons, the run job.

`build_graph` wires the services from plain values (tests call it directly);
`RunbooksFeature.build` does that on the core. Runbook files are read once, when the bot
starts: a wrong file stops the start with every problem as `file:line: key: message`
(check-config reports them the same way).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.core.errors import ConfigProblem
from bot.core.feature import ConfigSection, Core, Listener, ListenerKind, Parts
from bot.core.router import Subcommand
from commands.runbooks.config import RunbooksSection
from commands.runbooks.executors import Executors
from commands.runbooks.handlers import RUNBOOK_USAGE, RunbookHandlers
from commands.runbooks.ids import ActionId, CallbackId, JobKind, PolicyAction
from commands.runbooks.jobs import RunJob
from commands.runbooks.loader import RunbookProblems, load_directory
from commands.runbooks.notifier import SlackRunNotifier
from commands.runbooks.service.dashboard import RunbookDashboard
from commands.runbooks.service.links import ServiceLinks
from commands.runbooks.service.ports import RunbookContext, StepExecutor
from commands.runbooks.service.runs import RunbookRuns

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
ACTION_WORDS: dict[str, str] = {
    PolicyAction.LIST: "list runbooks",
    PolicyAction.RUN: "run runbooks",
    PolicyAction.RISKY: "run risky runbook steps",
}


@dataclass
class Runbooks:
    context: RunbookContext
    runs: RunbookRuns
    job: RunJob


def build_graph(context: RunbookContext) -> Runbooks:
    context.policy.describe_actions(ACTION_WORDS)
    return Runbooks(context=context, runs=RunbookRuns(context), job=RunJob(context))


ExecutorFactory = Callable[[RunbooksSection, Core], StepExecutor]


def real_executors(section: RunbooksSection, core: Core) -> StepExecutor:
    executors = Executors()
    core.closers.append(executors.close)
    return executors


@dataclass(frozen=True)
class RunbooksFeature:
    """Declarative runbooks; off while `runbooks.directory` is unset."""

    executors: ExecutorFactory = real_executors
    name: str = "runbooks"
    sections: Sequence[ConfigSection] = (ConfigSection("runbooks", RunbooksSection),)
    models: str | None = "commands.runbooks.models"
    migrations: Path | None = field(default=MIGRATIONS)

    def build(self, core: Core) -> Parts[Runbooks | None]:
        section = core.section("runbooks", RunbooksSection)
        if section.directory is None:
            return Parts(api=None)
        try:
            runbooks = load_directory(section, core.config_dir, list(core.config.teams))
        except RunbookProblems as problems:
            raise ConfigProblem(("runbooks", "directory"), "\n" + str(problems)) from None
        context = RunbookContext(
            section=section,
            runbooks=runbooks,
            sessions=core.sessions,
            policy=core.policy,
            identity=core.identity,
            audit=core.audit,
            jobs=core.jobs,
            notifier=SlackRunNotifier(core.messenger),
            executor=self.executors(section, core),
            clock=core.clock,
            team_channels={k: t.channel for k, t in core.config.teams.items()},
            actions=core.actions,
            changed=core.dashboard.changed,
        )
        for loaded in runbooks.values():
            for call in loaded.calls:
                core.actions.expect(call.action, call.args, where=call.where)
        graph = build_graph(context)
        handlers = RunbookHandlers(runs=graph.runs, identity=core.identity)
        action, view = ListenerKind.ACTION, ListenerKind.VIEW
        return Parts(
            api=graph,
            subcommands=[
                Subcommand(
                    name="runbook",
                    summary="Runbooks: list them, dry-run them and run them step by step.",
                    usage=RUNBOOK_USAGE,
                    example="/platform runbook run restart-deployment",
                    action=PolicyAction.LIST,
                    handler=handlers.handle_runbook,
                    mutating=True,
                    aliases=("runbooks",),
                )
            ],
            listeners=[
                Listener(view, CallbackId.FORM, handlers.handle_form_submission),
                Listener(action, ActionId.CONTINUE, handlers.handle_continue),
                Listener(action, ActionId.STOP, handlers.handle_stop),
                Listener(action, ActionId.APPROVE, handlers.handle_approve),
                Listener(action, ActionId.DENY, handlers.handle_deny),
            ],
            job_handlers={JobKind.RUN: graph.job},
            runbooks=ServiceLinks(graph.runs),
            dashboard=RunbookDashboard(context),
        )
