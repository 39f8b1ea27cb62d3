"""The environments' messages and modals, built without a bot: inside Block Kit's limits with
the most of everything, and every text from people as text."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from bot.emulator.blockkit import check_message_blocks, check_view
from commands.environments.service.requests import FormValues
from commands.environments.service.types import (
    Change,
    EnvInfo,
    EnvRequest,
    Operation,
    Plan,
    ResourceInfo,
)
from commands.environments.views import messages, modals
from tests.hostile import HOSTILE_TEXT, RAW_MARKERS

WHEN = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
ENV = EnvInfo(
    id="e" * 32,
    name="pr-42",
    template="preview",
    driver="local",
    tier="dev",
    team="payments",
    team_name=HOSTILE_TEXT,
    requested_by="U0BOB",
    reason=HOSTILE_TEXT,
    status="ready",
    created_at=WHEN,
    ready_at=WHEN,
    expires_at=WHEN,
    destroyed_at=None,
    max_ttl_hours=336,
    monthly_cost=23,
    currency="USD",
    resources=(ResourceInfo("db", "postgres", "PostgreSQL", "small", "pr-42-db", "ready"),),
    outputs={"db.host": HOSTILE_TEXT},
    clone_of=None,
    failure=HOSTILE_TEXT,
    approvals_needed=2,
    approvers=(),
    credentials_waiting=True,
)


def no_raw_markup(blocks: Any) -> str:
    shown = json.dumps(blocks, ensure_ascii=False)
    for marker in RAW_MARKERS:
        assert marker not in shown, shown
    return shown


def test_every_message_escapes_what_people_typed_and_fits_block_kit() -> None:
    for blocks in (
        messages.build_card(ENV),
        messages.build_approval(ENV, "admins"),
        messages.build_decided_approval(ENV),
        messages.build_decided_approval(replace(ENV, status="pending_approval")),
        messages.build_warning(ENV, 1.0),
        messages.build_listing([ENV] * 50)[1],
    ):
        assert check_message_blocks(blocks) == []
        no_raw_markup(blocks)
    no_raw_markup(messages.receipt_text(ENV, ["PostgreSQL `pr-42-db`"], 5.0))


def test_a_plan_of_a_thousand_changes_shows_forty_and_says_how_many_more() -> None:
    request = EnvRequest("preview", "pr-42", "dev", "payments", 72.0, HOSTILE_TEXT)
    plan = Plan(
        operation=Operation.CREATE,
        request=request,
        changes=tuple(Change("create", f"terraform_data.item[{i}]") for i in range(1000)),
        policy="Allowed: no approval needed.",
        approvals_needed=0,
        quota_left=0,
        monthly_cost=None,
        currency="USD",
        expires_at=WHEN,
    )
    view = modals.build_plan_modal(plan, {"channel": "C1"})
    assert check_view(view) == []
    shown = no_raw_markup(view["blocks"])
    assert "item[39]" in shown and "item[40]" not in shown and "960 more" in shown
    assert "0 left after this one" in shown and "not priced" in shown
    assert modals.parse_plan({**view, "state": {}}).name == "pr-42"


def test_the_form_holds_a_templates_inputs_and_parses_back() -> None:
    from commands.environments.service.templates import load_templates
    from tests.conftest import REPO_ROOT
    from tests.harness import example_config

    config = example_config()
    templates = list(load_templates(config.environments, config.databases, REPO_ROOT).values())
    form = FormValues(
        template="release", name="x" * 20, tier="prod", team="payments", reason="r" * 500
    )
    view = modals.build_form_modal(templates, [("payments", "payments")], form, (72.0, 336.0), {})
    assert check_view(view) == []
    tier = next(b for b in view["blocks"] if b.get("block_id") == "tier")
    assert tier["element"]["initial_option"]["value"] == "prod"


def test_the_reveal_shows_every_secret_once_within_the_limits() -> None:
    secrets = {f"api: VAR_{i}": "v" * 2000 for i in range(60)}
    view = modals.build_reveal_modal(ENV, secrets)
    assert check_view(view) == []
    assert "Shown once" in json.dumps(view)
