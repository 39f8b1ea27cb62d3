"""The request form: its fields, and the checks on them that need neither the policy nor a row.

`NewDbForm` is what the modal (or a test) submitted, as typed. `form_errors` judges it with
pydantic: `_CheckedForm` adds one validator per field, each named after its field, and gets
the config and the requester's teams as the validation context. Every field is judged in one
pass, so the modal shows all its problems at once; a validator that needs another field
(the plan needs the engine and the tier) skips when that field has its own error.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, field_validator
from pydantic_core import ErrorDetails, PydanticCustomError

from bot.core.errors import InvalidInput
from bot.core.mrkdwn import escape
from commands.resources.config import DatabasesSection, EngineConfig
from commands.resources.hours import hours_problem

REASON_MAX = 500
REASON_TOO_LONG = f"At most {REASON_MAX} characters."
TTL_FIELD = "Time to live"

NAME_MIN = 3
NAME_MAX = 31
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9-]{1,29}[a-z0-9]$")
_ALLOWED = re.compile(r"[a-z0-9-]", re.ASCII)
# Names that map onto a server's own objects on some engine (PostgreSQL's `postgres` and
# templates, MariaDB's system schemas, Redis's `default` user, RabbitMQ's `guest`), and the
# `pg-` prefix: PostgreSQL reserves role names starting with `pg_`, so `pg-x` would get a
# database and then fail at its user. Refused for every engine so a name is valid everywhere.
RESERVED_NAMES = frozenset(
    {
        "postgres", "template0", "template1", "mysql", "sys", "information-schema",
        "performance-schema", "mariadb", "default", "guest", "root", "admin", "rabbitmq",
    }
)  # fmt: skip
RESERVED_PREFIXES = ("pg-",)


def name_problem(name: str) -> str | None:
    """Why `name` cannot be a resource name, in words a person can act on; None if it can."""
    if not name:
        return "Give the resource a name."
    if len(name) > NAME_MAX:
        return f"At most {NAME_MAX} characters ({len(name)} given)."
    bad = sorted({c for c in name if not _ALLOWED.fullmatch(c.lower())})
    if bad:
        shown = " ".join(repr(c) for c in bad[:5])
        return f"Only lowercase letters, digits and '-' are allowed, not {shown}."
    if any(c.isupper() for c in name):
        return "Use lowercase letters only (e.g. `orders-db`)."
    if not name[0].isalpha():
        return "Start with a letter (a-z), not a digit or '-'."
    if len(name) < NAME_MIN:
        return f"At least {NAME_MIN} characters."
    if name.endswith("-"):
        return "End with a letter or a digit, not '-'."
    if NAME_PATTERN.fullmatch(name) is None:
        return "Use lowercase letters, digits and '-', starting with a letter."
    if name in RESERVED_NAMES or name.startswith(RESERVED_PREFIXES):
        return f"`{name}` is reserved by a database server; pick another name."
    return None


def require_resource_name(name: str) -> None:
    """Refuse a typed name that no resource can have, before looking it up (`drop-db`, …)."""
    problem = name_problem(name)
    if problem:
        raise InvalidInput(f"`{escape(name[: NAME_MAX + 1])}` is not a resource name: {problem}")


class NewDbForm(BaseModel):
    """The request form as submitted; `form_errors` says what is wrong with it."""

    model_config = ConfigDict(frozen=True)

    engine: str
    name: str
    tier: str
    team: str
    plan: str
    ttl_hours: float | None = None
    reason: str | None = None


@dataclass(frozen=True)
class _FormContext:
    """What the checks judge a form against: the config, and the teams the requester may use."""

    config: DatabasesSection
    teams: Collection[str]


_NO_PLAN_FOR_TIER = "no_plan_for_tier"
# Errors are keyed as the modal's field errors (views.modals.FIELD_BLOCKS) know them: the
# time to live is `ttl`, and that the chosen engine has no plan for the tier is found with
# the plans but is the tier's problem (the modal shows a note instead of the plan menu).
_FIELD_KEYS = {"ttl_hours": "ttl"}
_ERROR_KEYS = {_NO_PLAN_FOR_TIER: "tier"}


def _refused(message: str, kind: str = "new_db_form") -> PydanticCustomError:
    # A custom error keeps the message as written (a ValueError would get "Value error, ").
    return PydanticCustomError(kind, message)


def _context(info: ValidationInfo) -> _FormContext:
    context = info.context
    if not isinstance(context, _FormContext):
        raise TypeError("the form is checked with a _FormContext (see form_errors)")
    return context


def _engine_config(config: DatabasesSection, engine: object) -> EngineConfig | None:
    return next((c for k, c in config.engines.items() if k.value == engine), None)


class _CheckedForm(NewDbForm):
    """`NewDbForm` with its checks; validated only by `form_errors`, with a _FormContext."""

    @field_validator("engine")
    @classmethod
    def _offered_engine(cls, engine: str, info: ValidationInfo) -> str:
        if _engine_config(_context(info).config, engine) is None:
            raise _refused("Pick one of the engines offered.")
        return engine

    @field_validator("name")
    @classmethod
    def _usable_name(cls, name: str) -> str:
        problem = name_problem(name)
        if problem:
            raise _refused(problem)
        return name

    @field_validator("tier")
    @classmethod
    def _offered_tier(cls, tier: str, info: ValidationInfo) -> str:
        if tier not in _context(info).config.tiers:
            raise _refused("Pick one of the tiers offered.")
        return tier

    @field_validator("team")
    @classmethod
    def _own_team(cls, team: str, info: ValidationInfo) -> str:
        if team not in _context(info).teams:
            raise _refused("You can only request resources for a team you belong to.")
        return team

    @field_validator("plan")
    @classmethod
    def _plan_for_tier(cls, plan: str, info: ValidationInfo) -> str:
        config = _context(info).config
        engine, tier = info.data.get("engine"), info.data.get("tier")
        engine_config = _engine_config(config, engine)
        if engine_config is None or tier is None:
            return plan  # the engine or the tier has its own error
        label = config.label(str(engine))
        chosen = engine_config.plans.get(plan)
        if not any(tier in p.tiers for p in engine_config.plans.values()):
            raise _refused(
                f"There is no {label} plan for {tier}; pick another tier.", _NO_PLAN_FOR_TIER
            )
        if chosen is None:
            raise _refused(f"Pick one of the {label} plans.")
        if tier not in chosen.tiers:
            raise _refused(
                f"The {plan} plan is not available for {tier}; it is for {', '.join(chosen.tiers)}."
            )
        return plan

    @field_validator("ttl_hours")
    @classmethod
    def _ttl_within_tier(cls, hours: float | None, info: ValidationInfo) -> float | None:
        chosen = info.data.get("tier")  # absent when the tier has its own error
        tier = _context(info).config.tiers.get(chosen) if chosen is not None else None
        if tier is not None and tier.max_ttl_hours is not None:
            problem = hours_problem(hours, field=TTL_FIELD, maximum=tier.max_ttl_hours)
            if problem:
                raise _refused(problem)
        return hours

    @field_validator("reason")
    @classmethod
    def _reason_length(cls, reason: str | None) -> str | None:
        if reason and len(reason) > REASON_MAX:
            raise _refused(REASON_TOO_LONG)
        return reason


def form_errors(
    config: DatabasesSection, form: NewDbForm, *, teams: Collection[str]
) -> dict[str, str]:
    """Field name → what is wrong with it (empty when every field is usable).

    `teams` are the teams the requester may request for.
    """
    try:
        _CheckedForm.model_validate(form.model_dump(), context=_FormContext(config, teams))
    except ValidationError as invalid:
        return {_error_key(error): error["msg"] for error in invalid.errors()}
    return {}


def _error_key(error: ErrorDetails) -> str:
    field = str(error["loc"][0])
    return _ERROR_KEYS.get(error["type"], _FIELD_KEYS.get(field, field))
