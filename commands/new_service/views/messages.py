"""The DMs of a new-service request: created (with the dev-environment button), or failed.

Plain Block Kit dicts (the job that posts them imports no Slack library); the tests check
them against Slack's limits with the emulator's checker.
"""

from __future__ import annotations

import json
from typing import Any

from bot.core.mrkdwn import SECTION_TEXT_LIMIT, escape, truncate
from commands.new_service.ids import ActionId

JSON = dict[str, Any]
ENV_NAME_LENGTH = 20
"""The environments feature's longest name: a longer service name is cut to fit the form."""


def dev_environment_value(template: str, name: str, team: str) -> str:
    """The button's value, read by the environments feature's listener (as JSON)."""
    env_name = name[:ENV_NAME_LENGTH].rstrip("-")
    return json.dumps({"template": template, "name": env_name, "team": team})


def build_created(
    name: str, owner: str, repository: str, *, in_catalog: bool, dev_template: str | None
) -> tuple[str, list[JSON]]:
    text = f"`{name}` is created: its repository is {repository}"
    catalog = (
        f"`/platform owner {escape(name)}` answers now."
        if in_catalog
        else "It appears in the catalog at its next refresh."
    )
    lines = [
        f":white_check_mark: *`{escape(name)}` is created*, owned by *{escape(owner)}*.",
        f"Repository: `{escape(repository)}`",
        f"Clone it: `git clone {escape(repository)}`",
        catalog,
    ]
    blocks: list[JSON] = [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": truncate("\n".join(lines), SECTION_TEXT_LIMIT)},
        }
    ]
    if dev_template:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": ActionId.DEV_ENVIRONMENT,
                        "text": {"type": "plain_text", "text": "Create its dev environment"},
                        "value": dev_environment_value(dev_template, name, owner),
                        "style": "primary",
                    }
                ],
            }
        )
    return text, blocks


def build_failed(name: str, reason: str) -> str:
    return truncate(
        f":x: `{escape(name)}` was not created: {escape(reason)}\n"
        "Nothing was left behind: the name is free to try again.",
        SECTION_TEXT_LIMIT,
    )
