"""The one authorization function that help, execution and approval all use.

Rules come from the platform config's `policies`, evaluated in order: the first rule whose
`action` matches (exactly or as a glob) and whose `when` conditions all hold in the
request's context decides. No matching rule means no: an action nobody thought about is
not open to everyone.

Subjects: `everyone`, `role:NAME`, `team:NAME` (members and leads), `lead:TEAM` (`lead:owner`
is the lead of the team in `context["team"]`), `user:ID-OR-EMAIL`, `usergroup:HANDLE`.
Guests and bots get no mutating action unless a rule names them with `user:`; deactivated
users get nothing. Everything here is pure: it reads only the `Principal` and the config
(`approver_candidates` asks a `Roster` who is in a group, and changes nothing).

Refusals are mrkdwn written for people: subjects are named as a person would ("the
platform-team group", "admins", "the leads of Payments", a mention for a user id), names
from the config are escaped, and actions are described in words a feature declares
(`describe_actions`), never by their policy names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import translate
from typing import Protocol

from bot.core.config import ApprovalConfig, CoreConfig, PolicyRule
from bot.core.identity import Principal
from bot.core.mrkdwn import escape

OWNER = "owner"
"""`lead:owner` names the lead of the team the action is about (`context["team"]`)."""

ADMIN_ROLE = "admin"
UNDESCRIBED_ACTION = "do that"
"""How a refusal names an action no feature described: the person just tried it."""

_GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True, slots=True)
class Decision:
    """The policy's answer; `reason` is mrkdwn written to be shown to the user as it is."""

    allowed: bool
    reason: str
    rule: PolicyRule | None = None
    approval: ApprovalConfig | None = None
    require_reason: bool = False


class Roster(Protocol):
    """Who is in a group, for listing the people a rule names (the identity service)."""

    def role_members(self, role: str) -> list[str]: ...

    def team_members(self, team: str) -> list[str]: ...

    def team_leads(self, team: str) -> list[str]: ...

    def usergroup_members(self, handle: str) -> list[str]: ...

    def user_for_email(self, email: str) -> str | None: ...


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

    def describe(self, context: Mapping[str, str], team_names: Mapping[str, str]) -> str:
        """The subject in words (mrkdwn): "admins", "the leads of Payments", a mention."""

        def team_name(team: str) -> str:
            return escape(team_names.get(team) or team)

        match self.kind:
            case "everyone":
                return "everyone"
            case "role":
                if self.value == ADMIN_ROLE:
                    return "admins"
                return f"people with the {escape(self.value)} role"
            case "team":
                return f"members of {team_name(self.value)}"
            case "lead":
                team = context.get("team") if self.value == OWNER else self.value
                return f"the leads of {team_name(team)}" if team else "the owning team's leads"
            case "user":
                return escape(self.value) if "@" in self.value else f"<@{self.value}>"
            case "usergroup":
                return f"the {escape(self.value)} group"
        return escape(self.text)

    def members(self, context: Mapping[str, str], roster: Roster) -> list[str] | None:
        """User ids this subject stands for; None when it cannot be listed (`everyone`)."""
        match self.kind:
            case "role":
                return roster.role_members(self.value)
            case "team":
                return roster.team_members(self.value)
            case "lead":
                team = context.get("team") if self.value == OWNER else self.value
                return roster.team_leads(team) if team else []
            case "user":
                if "@" not in self.value:
                    return [self.value]
                found = roster.user_for_email(self.value)
                return [found] if found else []
            case "usergroup":
                return roster.usergroup_members(self.value)
        return None


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

    def __init__(self, config: CoreConfig, *, read_only_actions: Iterable[str] = ()) -> None:
        self._config = config
        self._rules = tuple(_Rule.compile(rule) for rule in config.policies)
        read_only = [
            _Rule.compile(PolicyRule(action=a, allow=["everyone"])) for a in read_only_actions
        ]
        self._read_only = tuple(read_only)
        self._team_names = {key: team.name or key for key, team in config.teams.items()}
        self._action_words: dict[str, str] = {}

    def describe_actions(self, words: Mapping[str, str]) -> None:
        """Name actions for refusals ("create databases"); done while wiring, before serving."""
        self._action_words.update(words)

    def action_words(self, action: str) -> str:
        """The action in words, e.g. "create databases"; "do that" when none were declared."""
        return self._action_words.get(action, UNDESCRIBED_ACTION)

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
            self._refusal(principal, rule.allow, restricted, self.action_words(action), context),
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
            return Decision(False, "Nothing to approve: this needs nobody's approval.")
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
            self._refusal(approver, rule.approvers, restricted, "approve this request", context),
            rule=config,
            approval=config.approval,
        )

    def approvers_named(self, action: str, context: Mapping[str, str] | None = None) -> str:
        """Who may approve `action` in `context`, in words (mrkdwn): "admins or …"."""
        rule = self._rule_for(action, context or {})
        if rule is None or not rule.approvers:
            return "nobody"
        return self._listing(rule.approvers, context or {})

    def approver_candidates(
        self, action: str, context: Mapping[str, str], roster: Roster
    ) -> frozenset[str] | None:
        """User ids the approval rule for `action` names; None if it names `everyone`.

        Candidates only: whether each may approve a given request (not the requester, no
        guest, no deactivated account) is `may_approve`'s answer.
        """
        rule = self._rule_for(action, context)
        if rule is None:
            return frozenset()
        found: set[str] = set()
        for subject in rule.approvers:
            if self._undefined(subject) or (
                subject.kind == "lead"
                and subject.value == OWNER
                and context.get("team") not in self._config.teams
            ):
                continue  # names nobody (check-config reports it)
            members = subject.members(context, roster)
            if members is None:
                return None
            found.update(members)
        return frozenset(found)

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
        return (
            f"The platform's policy does not let anyone {self.action_words(action)}."
            f"{self.support_hint()}"
        )

    def support_hint(self) -> str:
        """A sentence pointing to the support channel (mrkdwn), or "" when none is set."""
        support = self._config.platform.support_channel
        return f" Ask in {escape(support)} if you need it." if support else ""

    def _listing(self, subjects: tuple[_Subject, ...], context: Mapping[str, str]) -> str:
        names = list(dict.fromkeys(s.describe(context, self._team_names) for s in subjects))
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]

    def _refusal(
        self,
        principal: Principal,
        subjects: tuple[_Subject, ...],
        restricted: bool,
        doing: str,
        context: Mapping[str, str],
    ) -> str:
        if restricted and any(subject.admits(principal, context) for subject in subjects):
            who = "Bots" if principal.is_bot else "Guests"
            return f"{who} cannot {doing}."
        return f"Only {self._listing(subjects, context)} may {doing}."


def _named(subject: _Subject, restricted: bool) -> bool:
    """Restricted principals (guests, bots) only pass through `user:` subjects."""
    return not restricted or subject.kind == "user"
