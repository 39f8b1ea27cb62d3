"""Checking a new-service form and recording the request: what the modal's submit does.

`form` answers what the modal shows for the current values (questions whose `when` holds,
defaults over the earlier answers); `submit` checks everything a person can get wrong
(name rules, a name already taken, their team, the template's own validators) as field
errors, then writes the request row, its audit record and its job in one transaction. The
slow part (copier, git, the catalog) is the job's (jobs/create.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.core.audit import AuditLog, Outcome
from bot.core.db import SessionFactory
from bot.core.errors import NotAllowed
from bot.core.identity import Principal
from bot.core.jobs import JobQueue
from bot.core.policy import Policy
from commands.new_service.ids import JobKind, PolicyAction
from commands.new_service.models import RequestStatus, ServiceRequest
from commands.new_service.service.questions import (
    FIXED,
    AnswersInvalid,
    Question,
    evaluate,
)
from commands.new_service.service.scaffold import CatalogDirectory, GitRepositories
from commands.new_service.service.templates import ServiceTemplate, TemplateShelf

NAME = re.compile(r"[a-z][a-z0-9-]{1,38}[a-z0-9]")
NAME_RULE = "3-40 characters: a-z, 0-9 and -, starting with a letter"


@dataclass(frozen=True)
class FormValues:
    """The modal's values as typed; `typed` by question key (choices as option indexes)."""

    template: str
    name: str = ""
    owner: str = ""
    typed: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Form:
    """What the modal shows: the template, the questions and the value each starts with."""

    template: ServiceTemplate
    questions: list[Question]
    values: dict[str, Any]
    teams: list[str]


@dataclass(frozen=True)
class Requested:
    id: int
    name: str
    duplicate: bool


@dataclass
class ServiceContext:
    shelf: TemplateShelf
    repositories: GitRepositories
    catalog_dir: CatalogDirectory | None
    sessions: SessionFactory
    policy: Policy
    audit: AuditLog
    jobs: JobQueue
    clock: Callable[[], datetime]


class ServiceRequests:
    def __init__(self, context: ServiceContext) -> None:
        self._c = context

    def teams_for(self, principal: Principal) -> list[str]:
        return sorted(principal.teams)

    def form(self, principal: Principal, values: FormValues) -> Form:
        shelf = self._c.shelf
        key = values.template if values.template in shelf.keys else shelf.keys[0]
        template = shelf.get(key)
        fixed = {"name": values.name or "new-service", "owner": values.owner or "team"}
        answers, shown, _ = evaluate(template.questions, values.typed, fixed)
        shown_values = {q.key: answers.get(q.key) for q in shown}
        return Form(template, shown, shown_values, self.teams_for(principal))

    def submit(
        self, principal: Principal, values: FormValues, *, request_key: str, channel: str | None
    ) -> Requested:
        """Check the form (AnswersInvalid with field errors), then record and queue it."""
        template = self._c.shelf.get(values.template)
        errors = self._name_errors(values.name) | self._owner_errors(principal, values.owner)
        fixed = {"name": values.name, "owner": values.owner}
        answers, _, answer_errors = evaluate(template.questions, values.typed, fixed)
        for key in FIXED:  # a template's own check of name or owner shows on that field
            if key in answer_errors and key not in errors:
                errors[key] = answer_errors.pop(key)
        errors |= answer_errors
        if errors:
            raise AnswersInvalid(errors)
        decision = self._c.policy.can(principal, PolicyAction.CREATE, {"team": values.owner})
        if not decision.allowed:
            raise NotAllowed(decision.reason)
        if decision.approval is not None:
            # Refused rather than made without the approval the policy asks for.
            raise NotAllowed(
                "The policy asks for an approval to create services, which new-service "
                "cannot collect yet. Ask the platform team."
            )
        return self._record(principal, template, values, answers, request_key, channel)

    def _name_errors(self, name: str) -> dict[str, str]:
        if not NAME.fullmatch(name) or "--" in name:
            return {"name": f"{NAME_RULE}; no double dashes"}
        if self._c.repositories.exists(name):
            return {"name": f"A repository `{name}` already exists: pick another name"}
        if self._c.catalog_dir is not None and self._c.catalog_dir.exists(name):
            return {"name": f"`{name}` is already in the catalog: pick another name"}
        return {}

    def _owner_errors(self, principal: Principal, owner: str) -> dict[str, str]:
        if owner not in principal.teams:
            return {"owner": "Pick one of your teams"}
        return {}

    def _record(
        self,
        principal: Principal,
        template: ServiceTemplate,
        values: FormValues,
        answers: Mapping[str, Any],
        request_key: str,
        channel: str | None,
    ) -> Requested:
        with self._c.sessions() as session:
            found = session.scalar(
                select(ServiceRequest).where(ServiceRequest.request_key == request_key)
            )
            if found is not None:
                return Requested(found.id, found.name, duplicate=True)
        try:
            with self._c.sessions.begin() as session:
                row = ServiceRequest(
                    request_key=request_key,
                    name=values.name,
                    live_name=values.name,
                    template=template.key,
                    owner=values.owner,
                    requested_by=principal.user_id,
                    channel=channel,
                    answers=json.dumps(answers, default=str),
                    status=RequestStatus.CREATING,
                    created_at=self._c.clock(),
                )
                session.add(row)
                session.flush()
                self._c.audit.record(
                    actor=principal.user_id,
                    action=PolicyAction.CREATE,
                    outcome=Outcome.REQUESTED,
                    inputs={"template": template.key, **answers},
                    idempotency_key=request_key,
                    target=values.name,
                    session=session,
                )
                self._c.jobs.enqueue(
                    kind=JobKind.CREATE,
                    payload={"request_id": row.id, "answers": dict(answers)},
                    idempotency_key=f"svc-create-{row.id}",
                    max_attempts=1,
                    session=session,
                )
                return Requested(row.id, row.name, duplicate=False)
        except IntegrityError:
            raise AnswersInvalid(
                {"name": f"`{values.name}` is being created by someone else right now"}
            ) from None
