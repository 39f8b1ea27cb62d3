"""Whether enough people could approve a request, asked before it is recorded.

The requester never counts, nor do guests, bots or deactivated accounts (the policy's
`may_approve` decides each candidate), so a rule can name fewer eligible people than its
`count`: such a request would only wait until it expires. `ApproverCheck.problem` finds that
at submit time and says who could approve, so the requester can ask for help instead; after
each approval it is asked again, since the people who could approve can change meanwhile
(someone leaves a group, an account is deactivated) until all who are left have voted.

A rule that names `everyone` cannot be listed and always counts as approvable; so does a
candidate whose profile cannot be read right now (the directory being down must not block
requests).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from bot.core.config import ApprovalConfig
from bot.core.errors import NotAllowed, NotFound, Unavailable
from bot.core.identity import IdentityService, Principal
from bot.core.policy import Policy

_MENTIONED_MAX = 10  # people named in the message; the rest are counted


class ApproverCheck:
    def __init__(self, *, policy: Policy, identity: IdentityService) -> None:
        self._policy = policy
        self._identity = identity

    def eligible(
        self, requester_id: str, action: str, context: Mapping[str, str]
    ) -> tuple[list[str], bool] | None:
        """User ids who may approve, and whether the requester is among those the rule names.

        None when the rule names `everyone`.
        """
        candidates = self._policy.approver_candidates(action, context, self._identity)
        if candidates is None:
            return None
        eligible = []
        for user_id in sorted(candidates - {requester_id}):
            try:
                person = self._identity.principal(user_id)
            except NotFound:
                continue  # listed in the config, gone from the workspace
            except Unavailable:
                eligible.append(user_id)  # cannot tell now: do not block on it
                continue
            verdict = self._policy.may_approve(
                person, requester_id=requester_id, action=action, context=context
            )
            if verdict.allowed:
                eligible.append(user_id)
        return eligible, requester_id in candidates

    def refuse_unapprovable(
        self,
        requester: Principal,
        action: str,
        context: Mapping[str, str],
        approval: ApprovalConfig,
    ) -> None:
        """Raise NotAllowed, naming who could approve, when too few people could."""
        problem = self.problem(requester.user_id, action, context, approval.count)
        if problem is not None:
            raise NotAllowed(problem)

    def problem(
        self,
        requester_id: str,
        action: str,
        context: Mapping[str, str],
        count: int,
        *,
        voted: Collection[str] = (),
    ) -> str | None:
        """Why the request cannot collect `count` approvals (mrkdwn), or None when it can.

        `voted` are the approvers who already approved: they count once, and no more.
        """
        found = self.eligible(requester_id, action, context)
        if found is None:
            return None
        eligible, requester_named = found
        given = set(voted)
        remaining = [user for user in eligible if user not in given]
        needed = count - len(given)
        if len(remaining) >= needed:
            return None
        return self._message(action, context, needed, bool(given), remaining, requester_named)

    def _message(
        self,
        action: str,
        context: Mapping[str, str],
        needed: int,
        some_given: bool,
        remaining: list[str],
        requester_named: bool,
    ) -> str:
        who = self._policy.approvers_named(action, context)
        more = " more" if some_given else ""
        approvals = f"1{more} approval" if needed == 1 else f"{needed}{more} approvals"
        if remaining:
            named = [f"<@{user}>" for user in remaining[:_MENTIONED_MAX]]
            if len(remaining) > _MENTIONED_MAX:
                named.append(f"{len(remaining) - _MENTIONED_MAX} more")
            listed = named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]
            could = f"only {listed} could approve it"
            if requester_named:
                could += " (nobody approves their own request)"
        elif requester_named:
            could = "you are the only one of them, and nobody approves their own request"
        else:
            could = "none of them can approve it now"
        return (
            f"This request cannot be approved: it needs {approvals} from {who}, and {could}."
            f"{self._policy.support_hint()}"
        )
