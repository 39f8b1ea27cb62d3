"""`/platform env` as one Feature: config, tables, routes, jobs, sweep.

`build_graph` wires the services from plain values (tests and benchmarks call it
directly); `EnvironmentsFeature.build` does that on the core. Engines, plans, tiers and the
credential box are the `databases:` section's (commands/resources), so a template's
`postgres/small` is what `/platform new-db` would make; the provisioners come from the
runtime's adapters, as new-db's do.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from apscheduler.triggers.interval import IntervalTrigger

from bot.core.errors import ConfigProblem
from bot.core.feature import ConfigSection, Core, Listener, ListenerKind, Parts
from bot.core.router import Subcommand
from bot.core.scheduler import ScheduledTask
from commands.environments.config import EnvironmentsSection
from commands.environments.drivers.base import EnvDriver
from commands.environments.drivers.local import LocalDriver
from commands.environments.drivers.orchestrators import orchestrated_drivers
from commands.environments.drivers.terraform import TerraformDriver
from commands.environments.handlers import ENV_USAGE, EnvHandlers
from commands.environments.ids import ActionId, CallbackId, JobKind, PolicyAction
from commands.environments.jobs.create import CreateJob
from commands.environments.jobs.destroy import DestroyJob
from commands.environments.jobs.reissue import ReissueJob
from commands.environments.notifier import Audience, SlackNotifier
from commands.environments.service.actions import bot_actions
from commands.environments.service.approvals import EnvApprovals
from commands.environments.service.cancels import EnvCancels
from commands.environments.service.dashboard import EnvDashboard
from commands.environments.service.lifecycle import EnvLifecycle
from commands.environments.service.records import EnvContext
from commands.environments.service.requests import EnvRequests
from commands.environments.service.templates import Template, TemplateProblem, load_templates
from commands.environments.service.types import EnvInfo
from commands.resources.config import DatabasesSection, Driver
from commands.resources.credentials import CredentialBox, credential_box
from integrations.provisioning_protocols import Provisioner, SecretStore

logger = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
ACTION_WORDS: dict[str, str] = {
    PolicyAction.CREATE: "create environments",
    PolicyAction.CLONE: "clone environments",
    PolicyAction.DESTROY: "destroy environments",
    PolicyAction.EXTEND: "extend environments",
    PolicyAction.LIST: "list environments",
    PolicyAction.CREDENTIALS: "re-issue environment credentials",
}


@dataclass
class Environments:
    """The feature's services and jobs, wired together."""

    context: EnvContext
    requests: EnvRequests
    lifecycle: EnvLifecycle
    approvals: EnvApprovals
    create_job: CreateJob
    destroy_job: DestroyJob
    reissue_job: ReissueJob
    dashboard: EnvDashboard


def build_graph(context: EnvContext, box: CredentialBox) -> Environments:
    context.policy.describe_actions(ACTION_WORDS)
    return Environments(
        context=context,
        requests=EnvRequests(context),
        lifecycle=EnvLifecycle(context, box),
        approvals=EnvApprovals(context),
        create_job=CreateJob(context, box),
        destroy_job=DestroyJob(context, box),
        reissue_job=ReissueJob(context, box),
        dashboard=EnvDashboard(context, EnvCancels(context)),
    )


def build_drivers(
    section: EnvironmentsSection,
    core: Core,
    box: CredentialBox,
    provisioners: Mapping[str, Provisioner],
) -> dict[str, EnvDriver]:
    state_dsn = None
    if core.postgres and section.terraform.state != "local":
        url = core.sessions.kw["bind"].url.set(drivername="postgresql")
        if "sslmode" not in url.query and url.host in _LOOPBACK:
            # Terraform's pg backend (lib/pq) insists on SSL unless told otherwise, where the
            # bot's own driver only prefers it; on this machine there is no wire to protect.
            url = url.update_query_dict({"sslmode": "disable"})
        state_dsn = url.render_as_string(hide_password=False)
    return {
        Driver.LOCAL: LocalDriver(sessions=core.sessions, box=box, provisioners=dict(provisioners)),
        Driver.TERRAFORM: TerraformDriver(
            config=section.terraform,
            sessions=core.sessions,
            box=box,
            config_dir=core.config_dir,
            state_dsn=state_dsn,
        ),
    }


ProvisionersFactory = Callable[[DatabasesSection, Core], Mapping[str, Provisioner]]
SecretStoreFactory = Callable[[DatabasesSection, Core], SecretStore | None]


@dataclass(frozen=True)
class EnvironmentsFeature:
    """Whole environments from templates; off while `environments.templates` is empty."""

    provisioners: ProvisionersFactory
    secrets: SecretStoreFactory
    name: str = "environments"
    sections: Sequence[ConfigSection] = (
        ConfigSection("environments", EnvironmentsSection),
        ConfigSection("databases", DatabasesSection),
    )
    models: str | None = "commands.environments.models"
    migrations: Path | None = field(default=MIGRATIONS)

    def build(self, core: Core) -> Parts[Environments | None]:
        section = core.section("environments", EnvironmentsSection)
        if not section.templates:
            return Parts(api=None)
        databases = core.section("databases", DatabasesSection)
        try:
            templates = load_templates(section, databases, core.config_dir)
        except TemplateProblem as problem:
            raise ConfigProblem(("environments", "templates"), str(problem)) from None
        box = credential_box(databases)
        drivers = build_drivers(section, core, box, self.provisioners(databases, core))
        drivers.update(
            orchestrated_drivers(templates, core.sessions, core.config_dir, core.closers)
        )
        context = _context(core, section, databases, templates, drivers)
        context = dataclasses.replace(context, secrets=self.secrets(databases, core))
        graph = build_graph(context, box)
        handlers = EnvHandlers(
            requests=graph.requests,
            lifecycle=graph.lifecycle,
            approvals=graph.approvals,
            identity=core.identity,
        )
        lifecycle = graph.lifecycle
        return Parts(
            api=graph,
            dashboard=graph.dashboard,
            subcommands=[
                Subcommand(
                    name="env",
                    summary="Environments: plan, create, clone, extend and destroy them.",
                    usage=ENV_USAGE,
                    example="/platform env create preview orders-preview --tier dev",
                    action=PolicyAction.LIST,
                    handler=handlers.handle_env,
                    mutating=True,
                    aliases=("envs", "environment"),
                )
            ],
            listeners=_listeners(handlers),
            actions=bot_actions(lifecycle),
            job_handlers={
                JobKind.CREATE: graph.create_job,
                JobKind.DESTROY: graph.destroy_job,
                JobKind.REISSUE: graph.reissue_job,
            },
            tasks=[
                ScheduledTask(
                    id="environments-sweep",
                    func=lambda: logger.info("environments sweep: %s", lifecycle.sweep()),
                    trigger=IntervalTrigger(
                        seconds=timedelta(minutes=section.sweep_interval_minutes).total_seconds()
                    ),
                    description="Expire unanswered environment approvals; warn before and "
                    "destroy at each environment's expiry",
                )
            ],
        )


def _context(
    core: Core,
    section: EnvironmentsSection,
    databases: DatabasesSection,
    templates: Mapping[str, Template],
    drivers: Mapping[str, EnvDriver],
) -> EnvContext:
    return EnvContext(
        section=section,
        databases=databases,
        templates=templates,
        drivers=drivers,
        sessions=core.sessions,
        policy=core.policy,
        audit=core.audit,
        jobs=core.jobs,
        notifier=SlackNotifier(core.messenger, _audience(core, templates)),
        clock=core.clock,
        team_names={k: t.name or k for k, t in core.config.teams.items()},
        team_channels={k: t.channel for k, t in core.config.teams.items()},
    )


def _audience(core: Core, templates: Mapping[str, Template]) -> Audience:
    """Dashboards to refresh after a message about an environment: its people and approvers."""

    def approvers(env: EnvInfo) -> Collection[str]:
        template = templates.get(env.template)
        action: str = PolicyAction.CLONE if env.clone_of else PolicyAction.CREATE
        if template is not None and not env.clone_of:
            action = template.config.action
        context = {"tier": env.tier, "team": env.team, "template": env.template}
        return core.policy.approver_candidates(action, context, core.identity) or ()

    return Audience(changed=core.dashboard.changed, approvers=approvers)


def _listeners(handlers: EnvHandlers) -> list[Listener]:
    action, view = ListenerKind.ACTION, ListenerKind.VIEW
    return [
        Listener(action, ActionId.TEMPLATE, handlers.handle_template_change),
        Listener(action, ActionId.APPROVE, handlers.handle_approve),
        Listener(action, ActionId.DENY, handlers.handle_deny),
        Listener(action, ActionId.REVEAL, handlers.handle_reveal),
        Listener(action, ActionId.EXTEND, handlers.handle_extend),
        Listener(action, ActionId.SNOOZE, handlers.handle_snooze),
        Listener(action, ActionId.DESTROY_NOW, handlers.handle_destroy_now),
        Listener(action, ActionId.CREATE_PREFILLED, handlers.handle_create_prefilled),
        Listener(view, CallbackId.FORM, handlers.handle_form_submission),
        Listener(view, CallbackId.PLAN, handlers.handle_plan_submission),
        Listener(view, CallbackId.DESTROY, handlers.handle_destroy_submission),
        Listener(view, CallbackId.EXTEND, handlers.handle_extend_submission),
    ]
