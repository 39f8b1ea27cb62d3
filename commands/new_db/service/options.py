"""What the request form offers, and what `/platform new-db` arguments ask for.

The form follows its own selections: the plans listed are the chosen engine's plans that
allow the chosen tier (only one of those is preselected), and Reason is required when the
policy's rule for that tier, team and engine requires one. Arguments are read strictly: an
engine, tier, option or number that is not understood is named back with the choices, and
never replaced by a default.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.core.errors import NotFound
from bot.core.identity import Principal
from bot.core.mrkdwn import escape
from bot.core.policy import Policy
from commands.new_db.ids import PolicyAction
from commands.new_db.service.database import DatabaseService, policy_context
from commands.resources.config import EngineKind
from commands.resources.hours import parse_hours

TIER_FLAGS = ("--env", "--tier", "-e")
TTL_FLAGS = ("--ttl",)
OPTIONS_TEXT = "`--env TIER`, `--ttl HOURS`"
_SHOWN_MAX = 40  # characters of a person's argument repeated back to them


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    monthly_cost: float | None = None


@dataclass(frozen=True)
class FormChoices:
    engines: list[Option]
    tiers: list[Option]
    teams: list[Option]
    plans: list[Option]
    """The chosen engine's plans that allow the chosen tier (possibly none)."""
    engine: str
    engine_label: str
    tier: str
    team: str | None
    ttl_hours: float | None
    max_ttl_hours: float | None
    reason_required: bool = False
    currency: str = "USD"


@dataclass(frozen=True)
class RequestArgs:
    """`/platform new-db [ENGINE] [NAME] [--env TIER] [--ttl HOURS]`, as typed."""

    engine: str | None = None
    name: str | None = None
    tier: str | None = None
    ttl: str | None = None
    not_understood: list[str] = field(default_factory=list)
    """Problems found by reading alone (mrkdwn sentences, user text escaped)."""


def _shown(text: str) -> str:
    return f"`{escape(text[:_SHOWN_MAX])}`"


def parse_args(args: Sequence[str]) -> RequestArgs:
    """Read the arguments; what cannot be read lands in `not_understood`."""
    values: dict[str, str] = {}
    positional: list[str] = []
    problems: list[str] = []
    tokens = iter(args)
    for token in tokens:
        flag, equals, inline = token.partition("=")
        if flag in TIER_FLAGS + TTL_FLAGS:
            # Kept even when empty: `FormOptions.args_problems` says what it needs.
            values["tier" if flag in TIER_FLAGS else "ttl"] = inline if equals else next(tokens, "")
        elif token.startswith("-"):
            problems.append(f"{_shown(token)} is not an option; the options are {OPTIONS_TEXT}.")
        else:
            positional.append(token)
    for extra in positional[2:]:
        problems.append(f"{_shown(extra)} was not understood: give an engine and a name.")
    return RequestArgs(
        engine=positional[0] if positional else None,
        name=positional[1] if len(positional) > 1 else None,
        tier=values.get("tier"),
        ttl=values.get("ttl"),
        not_understood=problems,
    )


class FormOptions:
    """Builds the form's choices for a person, and checks typed arguments against them."""

    def __init__(self, *, service: DatabaseService, policy: Policy) -> None:
        self._service = service
        self._config = service.config
        self._policy = policy

    @property
    def max_ttl_hours(self) -> dict[str, float | None]:
        """Each tier's longest time to live (None: its resources do not expire)."""
        return {tier: config.max_ttl_hours for tier, config in self._config.tiers.items()}

    def engine_key(self, text: str) -> str | None:
        """The configured engine `text` names, by key or label ("postgres", "PostgreSQL")."""
        wanted = text.strip().casefold()
        for kind in self._config.engines:
            if wanted in (kind.value, self._config.label(kind.value).casefold()):
                return kind.value
        return None

    def args_problems(self, args: RequestArgs) -> list[str]:
        """Everything in `args` that names nothing offered here (mrkdwn sentences)."""
        problems = list(args.not_understood)
        if args.engine is not None and self.engine_key(args.engine) is None:
            engines = ", ".join(
                f"{escape(self._config.label(k.value))} (`{k.value}`)" for k in self._config.engines
            )
            problems.append(f"{_shown(args.engine)} is not an engine here; engines: {engines}.")
        tiers = list(self._config.tiers)
        listed = ", ".join(f"`{t}`" for t in tiers)
        if args.tier == "":
            problems.append(f"`--env` needs a tier: {listed}.")
        elif args.tier is not None and args.tier not in tiers:
            problems.append(f"{_shown(args.tier)} is not a tier here; tiers: {listed}.")
        elif args.ttl is not None:
            tier = args.tier or tiers[0]
            maximum = self._config.tiers[tier].max_ttl_hours
            if maximum is None:
                problems.append(f"`--ttl`: {tier} databases do not expire, so it does not apply.")
            else:
                typed = f"`--ttl {escape(args.ttl[:_SHOWN_MAX])}`" if args.ttl else "`--ttl`"
                _, problem = parse_hours(args.ttl, field=typed, maximum=maximum)
                if problem:
                    problems.append(problem)
        return problems

    def choices(
        self,
        principal: Principal,
        *,
        engine: str | None = None,
        tier: str | None = None,
        team: str | None = None,
    ) -> FormChoices:
        """The form for `principal`, with `engine`, `tier` and `team` chosen when offered."""
        config = self._config
        chosen = self._chosen_engine(engine)
        tiers = list(config.tiers)
        chosen_tier = tier if tier in tiers else tiers[0]
        tier_config = config.tiers[chosen_tier]
        teams = self._service.teams_for(principal)
        own = sorted(principal.teams)
        default_team = own[0] if own else (teams[0] if teams else None)
        chosen_team = team if team in teams else default_team
        plans = config.engines[EngineKind(chosen)].plans
        decision = self._policy.can(
            principal,
            PolicyAction.CREATE,
            policy_context(tier=chosen_tier, team=chosen_team or "", engine=chosen),
        )
        return FormChoices(
            engines=[Option(k.value, config.label(k.value)) for k in config.engines],
            tiers=[Option(t, c.label or t) for t, c in config.tiers.items()],
            teams=[Option(t, self._service.team_name(t)) for t in teams],
            plans=[
                Option(p, c.label or p, c.monthly_cost)
                for p, c in plans.items()
                if chosen_tier in c.tiers
            ],
            engine=chosen,
            engine_label=config.label(chosen),
            tier=chosen_tier,
            team=chosen_team,
            ttl_hours=tier_config.default_ttl_hours,
            max_ttl_hours=tier_config.max_ttl_hours,
            reason_required=decision.allowed and decision.require_reason,
            currency=config.currency,
        )

    def _chosen_engine(self, engine: str | None) -> str:
        config = self._config
        if not config.engines:
            raise NotFound("No database engines are configured on this platform.")
        found = self.engine_key(engine) if engine else None
        default = config.default_engine.value if config.default_engine else None
        return found or default or next(iter(config.engines)).value
