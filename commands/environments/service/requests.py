"""Create and clone: the form checked field by field, the plan shown before Confirm, and the
request recorded exactly once.

`check` and `plan` change nothing. `submit` checks again (the form may be minutes old),
then records the environment holding its name (`live_name` is unique: of two creates of one
name, one wins and the other is told) with its job, or waiting for approvals.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.core.audit import Outcome
from bot.core.errors import Conflict, InvalidInput, NotAllowed
from bot.core.identity import Principal
from bot.core.mrkdwn import escape
from bot.core.policy import Decision
from commands.environments.ids import BlockId, JobKind, PolicyAction
from commands.environments.models import Environment, EnvResource, EnvStatus, ResourceState
from commands.environments.service import records
from commands.environments.service.records import EnvContext, policy_context
from commands.environments.service.templates import Template
from commands.environments.service.types import EnvInfo, EnvRequest, Operation, Plan
from commands.resources.config import Driver
from commands.resources.forms import FormInvalid
from commands.resources.hours import parse_hours
from integrations.errors import IntegrationError

REASON_MAX = 500


@dataclass(frozen=True)
class FormValues:
    """The create form as typed: every value a string, nothing trusted yet."""

    template: str
    name: str
    tier: str
    team: str
    ttl: str = ""
    reason: str = ""
    inputs: Mapping[str, str] | None = None
    clone_of: str | None = None


class EnvRequests:
    def __init__(self, ctx: EnvContext) -> None:
        self._ctx = ctx

    def templates_for(self, principal: Principal) -> list[Template]:
        """The templates `principal` may use in at least one of their tiers (for the form)."""
        found = []
        for template in self._ctx.templates.values():
            action = template.config.action
            if any(
                self._ctx.policy.can(
                    principal, action, {"tier": tier, "template": template.key}
                ).allowed
                for tier in template.config.tiers
            ):
                found.append(template)
        return found

    def teams_for(self, principal: Principal) -> list[str]:
        """The teams `principal` may create for: their own (all, for an `env.admin`)."""
        if self._ctx.policy.can(principal, records.ADMIN_ACTION, {}).allowed:
            return sorted(self._ctx.team_names)
        return sorted(t for t in principal.teams if t in self._ctx.team_names)

    def check(self, principal: Principal, form: FormValues) -> EnvRequest:
        """The request the form describes, or `FormInvalid` naming each bad field."""
        ctx = self._ctx
        errors: dict[str, str] = {}
        template = ctx.templates.get(form.template)
        if template is None:
            errors[BlockId.TEMPLATE] = "Pick one of the templates."
        name = form.name.strip()
        problem = records.name_problem(name)
        if problem:
            errors[BlockId.NAME] = problem
        if form.team not in self.teams_for(principal):
            errors[BlockId.TEAM] = "Pick one of your teams."
        if len(form.reason) > REASON_MAX:
            errors[BlockId.REASON] = f"At most {REASON_MAX} characters."
        if template is None:
            raise FormInvalid(errors)
        ttl, inputs = self._tier_and_inputs(template, form, errors)
        if errors:
            raise FormInvalid(errors)
        with ctx.sessions() as session:
            if records.live_by_name(session, name) is not None:
                errors[BlockId.NAME] = f"`{name}` is taken by a live environment."
            limit = ctx.section.quotas.limit(form.team, form.tier)
            if limit is not None and records.live_count(session, form.team, form.tier) >= limit:
                errors[BlockId.TIER] = (
                    f"{ctx.team_names.get(form.team, form.team)} has all {limit} {form.tier} "
                    "environments its quota allows: destroy one first."
                )
        if errors:
            raise FormInvalid(errors)
        return EnvRequest(
            template=template.key,
            name=name,
            tier=form.tier,
            team=form.team,
            ttl_hours=ttl,
            reason=form.reason.strip() or None,
            inputs=inputs,
            clone_of=form.clone_of,
        )

    def _tier_and_inputs(
        self, template: Template, form: FormValues, errors: dict[str, str]
    ) -> tuple[float | None, dict[str, str]]:
        config = template.config
        ttl: float | None = None
        if form.tier not in config.tiers:
            errors[BlockId.TIER] = f"{template.key} environments are for {', '.join(config.tiers)}."
        else:
            default, maximum = self.ttl_bounds(template, form.tier)
            if form.ttl.strip():
                ttl, problem = parse_hours(form.ttl, field="Time to live", maximum=maximum)
                if problem:
                    errors[BlockId.TTL] = problem
            else:
                ttl = default
        inputs = {}
        for key, spec in config.inputs.items():
            value = ((form.inputs or {}).get(key) or spec.default or "").strip()
            block = f"{BlockId.INPUT_PREFIX}{key}"
            if not value:
                errors[block] = f"{spec.label}: required."
            elif len(value) > spec.max_length:
                errors[block] = f"{spec.label}: at most {spec.max_length} characters."
            elif spec.choices and value not in spec.choices:
                errors[block] = f"{spec.label}: one of {', '.join(spec.choices[:10])}."
            inputs[key] = value
        return ttl, inputs

    def ttl_bounds(self, template: Template, tier: str) -> tuple[float | None, float | None]:
        """(default, maximum) hours in `tier`: the template's own, else the tier's."""
        own = template.config.ttl.get(tier)
        if own is not None:
            return own.default_hours, own.max_hours
        tier_config = self._ctx.databases.tiers[tier]
        return tier_config.default_ttl_hours, tier_config.max_ttl_hours

    def decision(self, principal: Principal, request: EnvRequest) -> Decision:
        action = self._action(request)
        context = policy_context(tier=request.tier, team=request.team, template=request.template)
        decision = self._ctx.policy.can(principal, action, context)
        if not decision.allowed:
            raise NotAllowed(decision.reason)
        if decision.require_reason and not request.reason:
            raise FormInvalid({BlockId.REASON: "The policy asks for a reason here."})
        return decision

    def _action(self, request: EnvRequest) -> str:
        if request.clone_of is not None:
            return PolicyAction.CLONE
        return self._ctx.template(request.template).config.action

    def plan(self, principal: Principal, request: EnvRequest) -> Plan:
        """What Confirm would do; may take seconds for Terraform (the modal says so)."""
        ctx = self._ctx
        decision = self.decision(principal, request)
        template = ctx.template(request.template)
        with ctx.sessions() as session:
            env = self._draft(session, principal, request, template)
            shape = records.shape(ctx, session, env)
            session.rollback()
        try:
            changes = ctx.drivers[template.config.driver].plan_create(shape)
        except IntegrationError as exc:
            raise InvalidInput(f"The plan failed: {escape(exc.message[:1500])}") from exc
        needed = decision.approval.count if decision.approval else 0
        with ctx.sessions() as session:
            used = records.live_count(session, request.team, request.tier)
        limit = ctx.section.quotas.limit(request.team, request.tier)
        return Plan(
            operation=Operation.CLONE if request.clone_of else Operation.CREATE,
            request=request,
            changes=tuple(changes),
            policy=(
                f"Needs {needed} approval(s) from {self.approvers(request)}."
                if needed
                else "Allowed: no approval needed."
            ),
            approvals_needed=needed,
            quota_left=None if limit is None else max(0, limit - used - 1),
            monthly_cost=template.monthly_cost,
            unpriced=template.unpriced if template.config.driver is Driver.LOCAL else (),
            currency=ctx.databases.currency,
            expires_at=(
                ctx.clock() + timedelta(hours=request.ttl_hours) if request.ttl_hours else None
            ),
        )

    def confirm(self, principal: Principal, form: FormValues, key: str) -> EnvInfo:
        """The plan's Confirm: once per `key`; a repeat (double click, Slack's retry) gets
        the environment the first one recorded, not "that name is taken"."""
        with self._ctx.sessions() as session:
            existing = session.query(Environment).filter_by(request_key=key).first()
            if existing is not None:
                return records.info(self._ctx, session, existing)
        return self.submit(principal, self.check(principal, form), key)

    def submit(self, principal: Principal, request: EnvRequest, key: str) -> EnvInfo:
        """Record the request (once per `key`) and queue it, or ask for approvals."""
        ctx = self._ctx
        decision = self.decision(principal, request)
        template = ctx.template(request.template)
        needed = decision.approval.count if decision.approval else 0
        try:
            with ctx.sessions.begin() as session:
                existing = session.query(Environment).filter_by(request_key=key).first()
                if existing is not None:
                    return records.info(ctx, session, existing)
                env = self._draft(session, principal, request, template, key=key)
                env.approvals_needed = needed
                if needed and decision.approval is not None:
                    env.status = EnvStatus.PENDING
                    # While pending, `expires_at` is the approvals' deadline (see the sweep).
                    env.expires_at = ctx.clock() + timedelta(
                        hours=decision.approval.expires_after_hours
                    )
                    env.approval_channel = (decision.approval and decision.approval.channel) or (
                        ctx.team_channels.get(request.team)
                    )
                else:
                    records.enqueue(ctx, session, JobKind.CREATE, env.id, "create")
                ctx.audit.record(
                    actor=principal.user_id,
                    action=self._action(request),
                    outcome=Outcome.REQUESTED,
                    inputs={
                        "template": request.template,
                        "tier": request.tier,
                        "driver": template.config.driver.value,
                    },
                    idempotency_key=key,
                    target=f"env:{request.name}",
                    detail=request.reason,
                    session=session,
                )
                found = records.info(ctx, session, env)
        except IntegrityError:
            raise Conflict(
                f"`{request.name}` was taken a moment ago by another environment. "
                "Pick another name."
            ) from None
        if needed and found.status == EnvStatus.PENDING:
            self._ask_approval(found, request)
        return found

    def _ask_approval(self, found: EnvInfo, request: EnvRequest) -> None:
        ctx = self._ctx
        channel = self._approval_channel(found)
        posted = (
            ctx.notifier.ask_approval(found, channel, self.approvers(request)) if channel else None
        )
        if posted is not None:
            with ctx.sessions.begin() as session:
                env = records.load(session, found.id)
                env.approval_channel, env.approval_ts = posted
        else:
            ctx.notifier.tell(
                found.requested_by,
                f"`{found.name}` needs approval, and its approval request could not be posted: "
                "ask the approvers to look at it, or an admin to set an approval channel.",
            )

    def approvers(self, request: EnvRequest) -> str:
        """Who may approve `request`, in words (mrkdwn)."""
        context = policy_context(tier=request.tier, team=request.team, template=request.template)
        return self._ctx.policy.approvers_named(self._action(request), context)

    def _approval_channel(self, env: EnvInfo) -> str | None:
        with self._ctx.sessions() as session:
            return records.load(session, env.id).approval_channel

    def _draft(
        self,
        session: Session,
        principal: Principal,
        request: EnvRequest,
        template: Template,
        *,
        key: str | None = None,
    ) -> Environment:
        """The environment's rows, added to `session` (committed or rolled back by the caller)."""
        ctx = self._ctx
        source = self._source(session, principal, request)
        _, maximum = self.ttl_bounds(template, request.tier)
        env = Environment(
            id=records.new_id(),
            name=request.name,
            live_name=request.name,
            request_key=key or f"draft:{records.new_id()}",
            template=template.key,
            driver=template.config.driver,
            tier=request.tier,
            team=request.team,
            requested_by=principal.user_id,
            reason=request.reason,
            status=EnvStatus.CREATING,
            clone_of=source.id if source is not None else None,
            ttl_hours=request.ttl_hours,
            max_ttl_hours=maximum,
            monthly_cost=template.monthly_cost,
            currency=ctx.databases.currency,
            inputs=json.dumps(dict(request.inputs)),
            outputs="{}",
            approvals_needed=0,
            leftovers=False,
            created_at=ctx.clock(),
        )
        session.add(env)
        session.flush()  # the resources' foreign key needs the environment's row first
        for shape in template.shapes(request.name, ctx.databases):
            session.add(
                EnvResource(
                    environment_id=env.id,
                    key=shape.key,
                    engine=shape.engine,
                    plan=shape.plan,
                    name=shape.name,
                    state=ResourceState.PLANNED,
                )
            )
        session.flush()
        return env

    def _source(
        self, session: Session, principal: Principal, request: EnvRequest
    ) -> Environment | None:
        if request.clone_of is None:
            return None
        source = records.visible_by_name(self._ctx, session, principal, request.clone_of)
        if source.status != EnvStatus.READY:
            raise Conflict(
                f"`{source.name}` is {source.status.replace('_', ' ')}: only a ready "
                "environment can be cloned."
            )
        if source.driver != Driver.LOCAL:
            raise InvalidInput(
                f"`{source.name}` is made by Terraform; cloning copies data resource by "
                "resource, which only environments of listed resources can do."
            )
        return source

    def clone_form(
        self, principal: Principal, source_name: str, name: str, tier: str | None
    ) -> FormValues:
        """The create form a `clone SOURCE NEW` means: the source's template, team and inputs."""
        with self._ctx.sessions() as session:
            # The same "no environment called …" whether it is missing or someone else's.
            source = records.visible_by_name(self._ctx, session, principal, source_name)
            return FormValues(
                template=source.template,
                name=name,
                tier=tier or source.tier,
                team=source.team,
                inputs=json.loads(source.inputs or "{}"),
                clone_of=source.name,
            )
