"""Names the feature shares with Slack, the job queue and the policy: one place for each."""

from __future__ import annotations

from enum import StrEnum

DEV_ENVIRONMENT_ACTION = "env_create_prefilled"
"""The "Create its dev environment" button. The environments feature listens for this same
string (features cannot import each other); a test holds the two equal."""


class PolicyAction(StrEnum):
    CREATE = "service.create"


class JobKind(StrEnum):
    CREATE = "service.create"


class CallbackId(StrEnum):
    FORM = "svc_form"


class ActionId(StrEnum):
    TEMPLATE = "svc_template"
    FIELD = "svc_field"
    CHOICE = "svc_choice"
    """A select whose answer may show or hide later questions: rebuilds the modal."""
    DEV_ENVIRONMENT = DEV_ENVIRONMENT_ACTION


class BlockId(StrEnum):
    TEMPLATE = "template"
    NAME = "name"
    OWNER = "owner"
    QUESTION_PREFIX = "q_"
