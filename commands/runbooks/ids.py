"""Names the feature shares with Slack, the job queue and the policy: one place for each."""

from __future__ import annotations

from enum import StrEnum


class PolicyAction(StrEnum):
    LIST = "runbook.list"
    RUN = "runbook.run"
    """The default; a runbook may name its own action (e.g. `runbook.run.prod`)."""
    RISKY = "runbook.risky"
    """The default action of a step marked `risky: true`."""
    APPROVE = "runbook.approve"
    """What approving or denying a risky step is audited as."""


class JobKind(StrEnum):
    RUN = "runbook.run"


class CallbackId(StrEnum):
    FORM = "runbook_form"


class ActionId(StrEnum):
    CONTINUE = "runbook_continue"
    STOP = "runbook_stop"
    APPROVE = "runbook_approve"
    DENY = "runbook_deny"
    FIELD = "runbook_field"


class BlockId(StrEnum):
    PARAM_PREFIX = "param_"
    DRY_RUN = "dry_run"
