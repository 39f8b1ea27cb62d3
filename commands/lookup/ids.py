"""Slack ids of the lookup feature, shared by the views that build and the handlers that read."""

from __future__ import annotations

from enum import StrEnum


class ActionId(StrEnum):
    PAGE_ONCALL = "lookup_page_oncall"
    OPEN_IN_CATALOG = "lookup_open_in_catalog"
    PICK_ENTITY = "lookup_pick_entity"
    OPEN_LINK = "lookup_open_link"
    REASON = "lookup_page_reason_input"


class CallbackId(StrEnum):
    PAGE_REASON = "lookup_page_reason"
    PAGE_CONFIRM = "lookup_page_confirm"


class BlockId(StrEnum):
    REASON = "lookup_page_reason"
    CARD_ACTIONS = "lookup_card_actions"
    CARD_RUNBOOKS = "lookup_card_runbooks"
    PICK = "lookup_pick"


class JobKind(StrEnum):
    PAGE = "lookup.page"
    REFRESH = "lookup.catalog_refresh"
