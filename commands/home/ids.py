"""Slack ids and policy actions of the dashboard, shared by the builders and the listeners."""

from __future__ import annotations

from enum import StrEnum


class PolicyAction(StrEnum):
    READ = "home.read"
    """`/platform requests` and `/platform approvals`."""
    CANCEL = "home.cancel"
    OVERVIEW = "admin.overview"
    """The platform overview on an admin's App Home (the example config's `admin.*`)."""


class ActionId(StrEnum):
    CANCEL = "home_cancel"
    """Cancel on one of the person's requests; its value is the request's whole id."""


class BlockId(StrEnum):
    QUICK_ACTIONS = "home_quick_actions"
    # Prefixes, followed by the item's place in its list: a click says which row it was on.
    RESOURCE = "home_resource_"
    REQUEST = "home_request_"
    APPROVAL = "home_approval_"
    SURVEY = "home_survey_"
