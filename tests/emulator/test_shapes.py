"""Responses carry the top-level keys of Slack's own response samples (java-sdk json-logs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from slack_sdk import WebClient

from bot.emulator import Emulator, SlackSigner
from bot.emulator.state import Message
from tests.emulator.conftest import RecordingApp

# Sample keys that only appear on failures, on other token types, or for Grid/legacy features.
NOT_ON_SUCCESS = {
    "error",
    "warning",
    "needed",
    "provided",
    "errors",
    "deprecated_argument",
    "arg",
    "callstack",
    "enterprise_id",
    "expires_in",
    "offset",
    "response_metadata",
}
ONLY_SOMETIMES = {"conversations.open": {"no_op", "already_open"}}  # when the DM existed


def sample_keys(specs_dir: Path, method: str) -> set[str]:
    data: dict[str, Any] = json.loads(
        (specs_dir / "slack-json-logs" / "api" / f"{method}.json").read_text()
    )
    return set(data) - NOT_ON_SUCCESS


def responses(client: WebClient, emulator: Emulator) -> dict[str, dict[str, Any]]:
    posted = client.chat_postMessage(channel="C0GENERAL", text="hi")
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "T"}, "blocks": []}
    view = client.views_open(
        trigger_id=emulator.mint_trigger_id("U0ALICE"),
        view={"type": "modal", "title": {"type": "plain_text", "text": "T"}, "blocks": []},
    )["view"]
    home = {"type": "home", "blocks": []}
    calls = {
        "auth.test": client.auth_test(),
        "chat.postMessage": posted,
        "chat.postEphemeral": client.chat_postEphemeral(
            channel="C0GENERAL", user="U0BOB", text="x"
        ),
        "chat.update": client.chat_update(channel="C0GENERAL", ts=posted["ts"], text="y"),
        "conversations.open": client.conversations_open(users="U0BOB"),
        "conversations.info": client.conversations_info(channel="C0GENERAL"),
        "conversations.members": client.conversations_members(channel="C0GENERAL"),
        "users.info": client.users_info(user="U0BOB"),
        "users.list": client.users_list(),
        "users.lookupByEmail": client.users_lookupByEmail(email="bob@example.com"),
        "usergroups.list": client.usergroups_list(include_users=True),
        "usergroups.users.list": client.usergroups_users_list(usergroup="S0PLATFORM"),
        "views.update": client.views_update(view_id=view["id"], view=modal),
        "views.publish": client.views_publish(user_id="U0BOB", view=home),
        "chat.delete": client.chat_delete(channel="C0GENERAL", ts=posted["ts"]),
    }
    return {method: response.data for method, response in calls.items()}  # type: ignore[misc]


def test_main_methods_answer_with_the_samples_top_level_keys(
    client: WebClient, emulator: Emulator, specs_dir: Path
) -> None:
    for method, data in responses(client, emulator).items():
        missing = sample_keys(specs_dir, method) - set(data) - ONLY_SOMETIMES.get(method, set())
        assert not missing, f"{method} lacks {sorted(missing)}"


def test_nested_objects_carry_the_samples_main_fields(client: WebClient, specs_dir: Path) -> None:
    logs = specs_dir / "slack-json-logs" / "api"
    user_sample = json.loads((logs / "users.info.json").read_text())["user"]
    channel_sample = json.loads((logs / "conversations.info.json").read_text())["channel"]
    user = client.users_info(user="U0ALICE")["user"]
    channel = client.conversations_info(channel="C0GENERAL")["channel"]

    core_user = {
        "id",
        "team_id",
        "name",
        "deleted",
        "real_name",
        "tz",
        "tz_offset",
        "profile",
        "is_admin",
        "is_restricted",
        "is_bot",
        "is_app_user",
        "updated",
    }
    core_channel = {
        "id",
        "name",
        "is_channel",
        "is_group",
        "is_im",
        "is_private",
        "is_archived",
        "is_general",
        "is_member",
        "created",
        "creator",
        "topic",
        "purpose",
        "num_members",
    }
    assert core_user <= set(user_sample) and core_user <= set(user)
    assert core_channel <= set(channel_sample) and core_channel <= set(channel)


def test_signer_payloads_carry_the_samples_keys(
    signer: SlackSigner, recording_app: RecordingApp, emulator: Emulator, specs_dir: Path
) -> None:
    backend = specs_dir / "slack-json-logs" / "app-backend"
    slash_sample = json.loads((backend / "slash-commands" / "SlashCommandPayload.json").read_text())
    action_sample = json.loads(
        (backend / "interactive-components" / "BlockActionPayload.json").read_text()
    )
    posted = emulator.state.post(
        Message(
            channel="C0GENERAL",
            ts=emulator.state.next_ts(),
            text="t",
            user="U0PLATBOT",
            bot_id="B0PLATBOT",
            blocks=[
                {
                    "type": "actions",
                    "block_id": "b",
                    "elements": [
                        {
                            "type": "button",
                            "action_id": "go",
                            "text": {"type": "plain_text", "text": "Go"},
                        }
                    ],
                }
            ],
        )
    )

    signer.slash_command("U0ALICE", "hi")
    signer.block_action("U0ALICE", action_id="go", message=("C0GENERAL", posted.ts))

    grid_only = {"enterprise_id", "enterprise_name"}
    assert set(slash_sample) - grid_only <= set(recording_app.requests[0].form)
    action_keys = set(recording_app.requests[1].payload)
    # view/hash: actions in views; app_unfurl: unfurls; the rest: workflow-step functions
    not_for_messages = {
        "view",
        "hash",
        "app_unfurl",
        "function_data",
        "bot_access_token",
        "interactivity",
    }
    assert set(action_sample) - not_for_messages <= action_keys
