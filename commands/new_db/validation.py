"""The request form's fields, and the checks on them that need neither the policy nor a row."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from commands.new_db.config import DatabasesSection
from commands.new_db.domain import name_problem
from commands.new_db.hours import hours_problem

REASON_MAX = 500
TTL_FIELD = "Time to live"


@dataclass(frozen=True)
class NewDbForm:
    engine: str
    name: str
    tier: str
    team: str
    plan: str
    ttl_hours: float | None = None
    reason: str | None = None


def form_errors(
    config: DatabasesSection, form: NewDbForm, *, teams: Collection[str]
) -> dict[str, str]:
    """Field name → what is wrong with it (empty when every field is usable).

    `teams` are the teams the requester may request for.
    """
    errors: dict[str, str] = {}
    engine_config = next((c for k, c in config.engines.items() if k.value == form.engine), None)
    if engine_config is None:
        errors["engine"] = "Pick one of the engines offered."
    problem = name_problem(form.name)
    if problem:
        errors["name"] = problem
    tier = config.tiers.get(form.tier)
    if tier is None:
        errors["tier"] = "Pick one of the tiers offered."
    if form.team not in teams:
        errors["team"] = "You can only request resources for a team you belong to."
    if engine_config is not None and tier is not None:
        label = config.label(form.engine)
        plan = engine_config.plans.get(form.plan)
        if not any(form.tier in p.tiers for p in engine_config.plans.values()):
            errors["tier"] = f"There is no {label} plan for {form.tier}; pick another tier."
        elif plan is None:
            errors["plan"] = f"Pick one of the {label} plans."
        elif form.tier not in plan.tiers:
            errors["plan"] = (
                f"The {form.plan} plan is not available for {form.tier}; "
                f"it is for {', '.join(plan.tiers)}."
            )
    if tier is not None and tier.max_ttl_hours is not None:
        problem = hours_problem(form.ttl_hours, field=TTL_FIELD, maximum=tier.max_ttl_hours)
        if problem:
            errors["ttl"] = problem
    if form.reason and len(form.reason) > REASON_MAX:
        errors["reason"] = f"At most {REASON_MAX} characters."
    return errors
