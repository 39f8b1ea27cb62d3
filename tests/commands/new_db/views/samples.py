"""Samples for the new-db builders' tests: the form's choices, resources, requests, a view as
Slack sends it back once a person has filled it in, and checks of what the builders show.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import UTC, datetime
from functools import cache
from typing import Any

from bot.core.mrkdwn import escape
from bot.emulator.backend import Backend
from bot.emulator.blockkit import check_message_blocks, check_view
from bot.emulator.payloads import view_payload
from bot.emulator.state import View
from bot.emulator.workspace import Workspace
from commands.new_db.ids import PolicyAction
from commands.new_db.models import RequestStatus
from commands.new_db.service.options import FormChoices, Option
from commands.new_db.service.types import RequestInfo, ResourceInfo
from tests.commands.new_db.test_progress import INFO
from tests.hostile import HOSTILE_TEXT, RAW_MARKERS

JSON = dict[str, Any]
EXPIRES = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
WHEN = f"<!date^{int(EXPIRES.timestamp())}^{{date_short_pretty}} {{time}}|2026-12-01 09:30 UTC>"
ESCAPED = escape(HOSTILE_TEXT)
DEV_MAX_TTL = 336.0
TIERS_MAX_TTL: dict[str, float | None] = {"dev": DEV_MAX_TTL, "staging": 720.0, "prod": None}

SMALL = Option("small", "Small (10 connections)")
LARGE = Option("large", "Large (50 connections)")


def choices(tier: str = "dev", **changes: Any) -> FormChoices:
    """The form as FormOptions builds it for someone in payments: dev by default, or prod."""
    prod = tier == "prod"
    values: JSON = {
        "engines": [Option("postgres", "PostgreSQL"), Option("sqlite", "SQLite")],
        "tiers": [Option(t, t) for t in TIERS_MAX_TTL],
        "teams": [Option("payments", "Payments")],
        "plans": [LARGE] if prod else [SMALL, LARGE],
        "engine": "postgres",
        "engine_label": "PostgreSQL",
        "tier": tier,
        "team": "payments",
        "ttl_hours": None if prod else 72.0,
        "max_ttl_hours": TIERS_MAX_TTL[tier],
        "reason_required": prod,
    }
    values.update(changes)
    return FormChoices(**values)


def resource(**changes: Any) -> ResourceInfo:
    defaults: JSON = {"status": "active", "expires_at": EXPIRES}
    return replace(INFO.resource, **(defaults | changes))


def request(status: RequestStatus, **changes: Any) -> RequestInfo:
    """A request to create orders-db; its approval, when it needs one, expires at EXPIRES."""
    defaults: JSON = {
        "status": status,
        "action": PolicyAction.CREATE,
        "resource": resource(),
        "expires_at": EXPIRES,
    }
    return replace(INFO, **(defaults | changes))


@cache
def _backend() -> Backend:
    return Backend(Workspace.default(), time.time)


def submitted(spec: JSON, entered: dict[str, dict[str, Any]] | None = None) -> JSON:
    """`spec` as a view_submission carries it: what was `entered` (block → action → value)
    plus every untouched element's initial value, as Slack reports them."""
    view = View(id="V0NEWDB", user="U0BOB", spec=spec, hash="1.0", root_view_id="V0NEWDB")
    view.values = entered or {}
    return view_payload(_backend(), view)


def checked_view(view: JSON) -> JSON:
    assert check_view(view) == []
    return view


def checked(blocks: list[JSON]) -> list[JSON]:
    assert check_message_blocks(blocks) == []
    return blocks


def block_of(view: JSON, block_id: str) -> JSON:
    return next(b for b in view["blocks"] if b.get("block_id") == block_id)


def no_raw_markup(mrkdwn: str) -> None:
    # Only mrkdwn is parsed by Slack: labels, hints and options are plain_text.
    assert not any(marker in mrkdwn for marker in RAW_MARKERS), mrkdwn


def shown_as_text(blocks: list[JSON]) -> str:
    """Everything message `blocks` show; none of it may carry hostile markup raw."""
    shown = json.dumps(checked(blocks), ensure_ascii=False)
    no_raw_markup(shown)
    return shown


def buttons(blocks: list[JSON]) -> list[tuple[str, str]]:
    """(action id, value) of every button, accessories first."""
    found = [b["accessory"] for b in blocks if "accessory" in b]
    found += [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    return [(str(e["action_id"]), str(e["value"])) for e in found]
