"""The one authorization function that help, execution and approval all use.

Rules come from the platform config's `policies`, evaluated in order: the first rule whose
`action` matches (exactly or as a glob) and whose `when` conditions all hold in the
request's context decides. No matching rule means no: an action nobody thought about is
not open to everyone.

Subjects: `everyone`, `role:NAME`, `team:NAME` (members and leads), `lead:TEAM` (`lead:owner`
is the lead of the team in `context["team"]`), `user:ID-OR-EMAIL`, `usergroup:HANDLE`.
Guests and bots get no mutating action unless a rule names them with `user:`; deactivated
users get nothing. Everything here is pure: it reads only the `Principal` and the config.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import translate

from bot.config import ApprovalConfig, PlatformConfig, PolicyRule
from bot.identity import Principal

OWNER = "owner"
"""`lead:owner` names the lead of the team the action is about (`context["team"]`)."""

_GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True, slots=True)
class Decision:
    """The policy's answer; `reason` is written to be shown to the user as it is."""

    allowed: bool
    reason: str
    rule: PolicyRule | None = None
    approval: ApprovalConfig | None = None
    require_reason: bool = False


@dataclass(frozen=True, slots=True)
class _Subject:
    kind: str
    value: str
    text: str

    @classmethod
    def parse(cls, text: str) -> _Subject:
        kind, _, value = text.partition(":")
        return cls(kind, value.casefold() if kind == "user" and "@" in value else value, text)

    def admits(self, principal: Principal, context: Mapping[str, str]) -> bool:
        match self.kind:
            case "everyone":
                return True
            case "role":
                return self.value in principal.roles
            case "team":
                return self.value in principal.teams or self.value in principal.lead_of
            case "lead":
                team = context.get("team") if self.value == OWNER else self.value
                return team is not None and team in principal.lead_of
            case "user":
                email = principal.email.casefold() if principal.email else None
                return self.value in (principal.user_id, email)
            case "usergroup":
                return self.value in principal.usergroups
        return False

    def describe(self, context: Mapping[str, str]) -> str:
        if self.kind == "lead" and self.value == OWNER:
            team = context.get("team")
            return f"lead:{team}" if team else "the owning team's lead"
        return self.text


@dataclass(frozen=True, slots=True)
class _Rule:
    config: PolicyRule
    exact: str | None
    pattern: re.Pattern[str] | None
    when: tuple[tuple[str, frozenset[str]], ...]
    allow: tuple[_Subject, ...]
    approvers: tuple[_Subject, ...]

    @classmethod
    def compile(cls, rule: PolicyRule) -> _Rule:
        is_glob = not _GLOB_CHARS.isdisjoint(rule.action)
        return cls(
            config=rule,
            exact=None if is_glob else rule.action,
            pattern=re.compile(translate(rule.action)) if is_glob else None,
            when=tuple(
                (key, frozenset([value] if isinstance(value, str) else value))
                for key, value in rule.when.items()
            ),
            allow=tuple(_Subject.parse(subject) for subject in rule.allow),
            approvers=tuple(
                _Subject.parse(subject)
                for subject in (rule.approval.approvers if rule.approval else [])
            ),
        )

    def applies(self, action: str, context: Mapping[str, str]) -> bool:
        if self.exact is not None:
            if action != self.exact:
                return False
        elif self.pattern is None or self.pattern.match(action) is None:
            return False
        return all(context.get(key) in values for key, values in self.when)


class Policy:
    """Evaluates the config's policy rules for a principal, an action and its context.

    `read_only_actions` (names or globs) lists the actions that change nothing, such as
    lookups; only those are open to guests and bots through broad subjects. Anything not
    listed is treated as mutating, so forgetting to list an action can only deny.
    """

    def __init__(self, config: PlatformConfig, *, read_only_actions: Iterable[str] = ()) -> None:
        self._config = config
        self._rules = tuple(_Rule.compile(rule) for rule in config.policies)
        read_only = [
            _Rule.compile(PolicyRule(action=a, allow=["everyone"])) for a in read_only_actions
        ]
        self._read_only = tuple(read_only)

    def declare_read_only(self, actions: Iterable[str]) -> None:
        """Mark more actions as changing nothing; done while wiring, before serving."""
        extra = [_Rule.compile(PolicyRule(action=a, allow=["everyone"])) for a in actions]
        self._read_only = (*self._read_only, *extra)

    def can(
        self, principal: Principal, action: str, context: Mapping[str, str] | None = None
    ) -> Decision:
        """May `principal` run `action` in `context` (e.g. {"team": "payments", "env": "prod"})?"""
        context = context or {}
        if principal.deleted:
            return Decision(False, "Your Slack account is deactivated.")
        rule = self._rule_for(action, context)
        if rule is None:
            return Decision(False, self._no_rule_reason(action))
        restricted = self._restricted(principal, action)
        if any(s.admits(principal, context) and _named(s, restricted) for s in rule.allow):
            config = rule.config
            return Decision(
                True,
                f"allowed by the policy for {config.action}",
                rule=config,
                approval=config.approval,
                require_reason=config.require_reason,
            )
        return Decision(
            False,
            _refusal(principal, rule.allow, restricted, f"run {action}", context),
            rule=rule.config,
        )

    def may_approve(
        self,
        approver: Principal,
        *,
        requester_id: str,
        action: str,
        context: Mapping[str, str] | None = None,
    ) -> Decision:
        """May `approver` approve `requester_id`'s request to run `action` in `context`?"""
        context = context or {}
        if approver.user_id == requester_id:
            return Decision(False, "You cannot approve your own request.")
        if approver.deleted:
            return Decision(False, "Your Slack account is deactivated.")
        rule = self._rule_for(action, context)
        if rule is None or rule.config.approval is None:
            return Decision(False, f"Nothing to approve: no policy asks for approval of {action}.")
        # Approving makes the action happen, so it is as mutating as the action itself.
        restricted = approver.is_guest or approver.is_bot
        config = rule.config
        if any(s.admits(approver, context) and _named(s, restricted) for s in rule.approvers):
            return Decision(
                True,
                f"allowed to approve by the policy for {config.action}",
                rule=config,
                approval=config.approval,
                require_reason=config.require_reason,
            )
        return Decision(
            False,
            _refusal(approver, rule.approvers, restricted, f"approve {action}", context),
            rule=config,
            approval=config.approval,
        )

    def allowed_actions(
        self,
        principal: Principal,
        actions: Iterable[str],
        context: Mapping[str, str] | None = None,
    ) -> set[str]:
        """The subset of `actions` that `principal` may run (for help and menus)."""
        return {action for action in actions if self.can(principal, action, context).allowed}

    def problems(self) -> list[str]:
        """Subjects that name roles or teams the config does not define (for check-config).

        A misspelt `role:admni` would otherwise deny silently, forever.
        """
        found: list[str] = []
        for index, rule in enumerate(self._config.policies):
            lists = [("allow", rule.allow)]
            if rule.approval is not None:
                lists.append(("approval.approvers", rule.approval.approvers))
            for key, subjects in lists:
                for subject in map(_Subject.parse, subjects):
                    problem = self._undefined(subject)
                    if problem:
                        found.append(f"policies[{index}].{key}: {subject.text}: {problem}")
        if OWNER in self._config.teams:
            found.append(f"teams.{OWNER}: `lead:{OWNER}` means the owning team's lead, rename it")
        return found

    def _undefined(self, subject: _Subject) -> str | None:
        if subject.kind == "role" and subject.value not in self._config.roles:
            return "no such role under `roles`"
        teams = self._config.teams
        if subject.kind == "team" and subject.value not in teams:
            return "no such team under `teams`"
        if subject.kind == "lead" and subject.value != OWNER and subject.value not in teams:
            return "no such team under `teams`"
        return None

    def _rule_for(self, action: str, context: Mapping[str, str]) -> _Rule | None:
        for rule in self._rules:
            if rule.applies(action, context):
                return rule
        return None

    def _restricted(self, principal: Principal, action: str) -> bool:
        if not (principal.is_guest or principal.is_bot):
            return False
        return not any(rule.applies(action, {}) for rule in self._read_only)

    def _no_rule_reason(self, action: str) -> str:
        support = self._config.platform.support_channel
        where = f" Ask in {support} if you need it." if support else ""
        return f"No policy allows {action}.{where}"


def _named(subject: _Subject, restricted: bool) -> bool:
    """Restricted principals (guests, bots) only pass through `user:` subjects."""
    return not restricted or subject.kind == "user"


def _refusal(
    principal: Principal,
    subjects: tuple[_Subject, ...],
    restricted: bool,
    doing: str,
    context: Mapping[str, str],
) -> str:
    if restricted and any(subject.admits(principal, context) for subject in subjects):
        who = "Bots" if principal.is_bot else "Guests"
        return f"{who} cannot {doing}."
    names = [subject.describe(context) for subject in subjects]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
    return f"Only {listed} may {doing}."
