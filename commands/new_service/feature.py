"""`/platform new-service` as one Feature: config, table, route, listeners, job.

Off while `services.templates` is empty. Repositories go under `services.repositories.root`;
each new service's catalog-info.yaml goes to `services.catalog_dir` (a directory the catalog's
files provider reads), and `Core.catalog` refreshes the index so lookups know it at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.core.errors import ConfigProblem
from bot.core.feature import ConfigSection, Core, Listener, ListenerKind, Parts
from bot.core.router import Subcommand
from commands.new_service.config import ServicesSection
from commands.new_service.handlers import USAGE, ServiceHandlers
from commands.new_service.ids import ActionId, CallbackId, JobKind, PolicyAction
from commands.new_service.jobs.create import CreateServiceJob
from commands.new_service.service.questions import TemplateInvalid
from commands.new_service.service.requests import ServiceContext, ServiceRequests
from commands.new_service.service.scaffold import CatalogDirectory, GitRepositories
from commands.new_service.service.templates import TemplateShelf

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


@dataclass
class NewService:
    """The feature's services and job, wired together (for tests and benchmarks)."""

    context: ServiceContext
    requests: ServiceRequests
    create_job: CreateServiceJob


def build_context(section: ServicesSection, core: Core) -> ServiceContext:
    root = core.config_dir / section.repositories.root
    try:
        shelf = TemplateShelf(section, core.config_dir, root / ".templates")
    except TemplateInvalid as problem:
        raise ConfigProblem(("services", "templates"), str(problem)) from None
    repos = section.repositories
    core.policy.describe_actions({PolicyAction.CREATE: "create services"})
    return ServiceContext(
        shelf=shelf,
        repositories=GitRepositories(
            root=root,
            default_branch=repos.default_branch,
            author_name=repos.author_name,
            author_email=repos.author_email,
        ),
        catalog_dir=CatalogDirectory(core.config_dir / section.catalog_dir)
        if section.catalog_dir is not None
        else None,
        sessions=core.sessions,
        policy=core.policy,
        audit=core.audit,
        jobs=core.jobs,
        clock=core.clock,
    )


@dataclass(frozen=True)
class NewServiceFeature:
    name: str = "new-service"
    sections: Sequence[ConfigSection] = (ConfigSection("services", ServicesSection),)
    models: str | None = "commands.new_service.models"
    migrations: Path | None = field(default=MIGRATIONS)

    def build(self, core: Core) -> Parts[NewService | None]:
        section = core.section("services", ServicesSection)
        if not section.templates:
            return Parts(api=None)
        context = build_context(section, core)
        job = CreateServiceJob(
            shelf=context.shelf,
            repositories=context.repositories,
            catalog_dir=context.catalog_dir,
            catalog=core.catalog,
            sessions=core.sessions,
            audit=core.audit,
            messenger=core.messenger,
            clock=core.clock,
        )
        requests = ServiceRequests(context)
        handlers = ServiceHandlers(requests=requests, shelf=context.shelf, identity=core.identity)
        action, view = ListenerKind.ACTION, ListenerKind.VIEW
        return Parts(
            api=NewService(context=context, requests=requests, create_job=job),
            subcommands=[
                Subcommand(
                    name="new-service",
                    summary="A new service from a golden-path template: its repository, "
                    "catalog entry and a dev environment.",
                    usage=USAGE,
                    example="/platform new-service python-service invoice-api",
                    action=PolicyAction.CREATE,
                    handler=handlers.handle_new_service,
                    mutating=True,
                    aliases=("scaffold",),
                )
            ],
            listeners=[
                Listener(action, ActionId.TEMPLATE, handlers.handle_form_change),
                Listener(action, ActionId.CHOICE, handlers.handle_form_change),
                Listener(view, CallbackId.FORM, handlers.handle_form_submission),
            ],
            job_handlers={JobKind.CREATE: job},
        )


FEATURE = NewServiceFeature()
