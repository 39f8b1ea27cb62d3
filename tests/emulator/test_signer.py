"""SlackSigner: Slack's wire format, signatures, and the Slack client's follow-up behaviour."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qsl

import httpx
from slack_sdk.signature import SignatureVerifier

from bot.emulator import Emulator, SlackSigner
from bot.emulator.state import Message
from tests.clock import Clock
from tests.emulator.conftest import RecordingApp

SLACK_VECTOR_BODY = (
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
    "&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
    "&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIG"
    "lgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)

FORM_VIEW: dict[str, Any] = {
    "type": "modal",
    "callback_id": "form",
    "notify_on_close": True,
    "title": {"type": "plain_text", "text": "Form"},
    "submit": {"type": "plain_text", "text": "Send"},
    "blocks": [
        {
            "type": "input",
            "block_id": "name",
            "label": {"type": "plain_text", "text": "Name"},
            "element": {"type": "plain_text_input", "action_id": "v", "initial_value": "svc"},
        },
        {
            "type": "input",
            "block_id": "env",
            "label": {"type": "plain_text", "text": "Env"},
            "element": {
                "type": "static_select",
                "action_id": "v",
                "options": [{"text": {"type": "plain_text", "text": "Prod"}, "value": "prod"}],
            },
        },
        {
            "type": "input",
            "block_id": "checks",
            "optional": True,
            "label": {"type": "plain_text", "text": "Checks"},
            "element": {
                "type": "checkboxes",
                "action_id": "v",
                "options": [
                    {"text": {"type": "plain_text", "text": "Tests"}, "value": "tests"},
                    {"text": {"type": "plain_text", "text": "Lint"}, "value": "lint"},
                ],
            },
        },
        {
            "type": "input",
            "block_id": "owner",
            "optional": True,
            "label": {"type": "plain_text", "text": "Owner"},
            "element": {"type": "users_select", "action_id": "v"},
        },
        {
            "type": "input",
            "block_id": "when",
            "optional": True,
            "label": {"type": "plain_text", "text": "When"},
            "element": {"type": "datepicker", "action_id": "v"},
        },
        {
            "type": "input",
            "block_id": "count",
            "optional": True,
            "label": {"type": "plain_text", "text": "Count"},
            "element": {"type": "number_input", "action_id": "v", "is_decimal_allowed": False},
        },
    ],
}


def test_official_signing_test_vector() -> None:
    signature = SignatureVerifier("8f742231b10e8888abcd99yyyzzz85a5").generate_signature(
        timestamp="1531420618", body=SLACK_VECTOR_BODY
    )
    assert signature == "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"


def test_slash_command_is_form_encoded_and_signed_like_slack(
    signer: SlackSigner, recording_app: RecordingApp, emulator: Emulator
) -> None:
    recording_app.reply("Got it")
    response = signer.slash_command(
        "U0BOB", "deploy payments", channel_id="C0PAYMENTS", retry_num=1
    )

    [request] = recording_app.requests
    form = request.form
    assert list(form) == [
        "token",
        "team_id",
        "team_domain",
        "channel_id",
        "channel_name",
        "user_id",
        "user_name",
        "command",
        "text",
        "api_app_id",
        "is_enterprise_install",
        "response_url",
        "trigger_id",
    ]
    assert (form["command"], form["text"], form["channel_name"], form["user_name"]) == (
        "/platform",
        "deploy payments",
        "payments",
        "bob",
    )
    headers = {k.lower(): v for k, v in request.headers.items()}
    assert headers["content-type"] == "application/x-www-form-urlencoded"
    assert headers["user-agent"].startswith("Slackbot")
    assert (headers["x-slack-retry-num"], headers["x-slack-retry-reason"]) == ("1", "http_timeout")
    verifier = SignatureVerifier(emulator.signing_secret)
    assert verifier.is_valid(
        request.body, headers["x-slack-request-timestamp"], headers["x-slack-signature"]
    )
    assert abs(int(headers["x-slack-request-timestamp"]) - time.time()) < 5
    assert response.status == 200 and response.body == "Got it"
    [ephemeral] = emulator.state.ephemerals("U0BOB")
    assert (ephemeral.text, ephemeral.channel) == ("Got it", "C0PAYMENTS")


def test_a_failing_app_gets_slacks_dispatch_failed(
    signer: SlackSigner, recording_app: RecordingApp, emulator: Emulator
) -> None:
    recording_app.reply("boom", status=500)
    signer.slash_command("U0ALICE", "x")

    [ephemeral] = emulator.state.ephemerals("U0ALICE")
    assert ephemeral.text == '/platform failed with the error "dispatch_failed"'
    assert ephemeral.bot_id is None


def test_response_url_is_usable_five_times(
    signer: SlackSigner, recording_app: RecordingApp, emulator: Emulator
) -> None:
    signer.slash_command("U0ALICE", "x")
    url = recording_app.requests[0].form["response_url"]

    statuses = [
        httpx.post(url, json={"text": f"n{i}", "response_type": "in_channel"}).status_code
        for i in range(6)
    ]

    assert statuses == [200] * 5 + [404]
    assert httpx.post(url, json={"text": "again"}).json()["error"] == "used_url"
    assert [m.text for m in emulator.messages("general")] == ["n0", "n1", "n2", "n3", "n4"]


def test_response_url_expires_after_thirty_minutes() -> None:
    clock = Clock()
    with Emulator(rate_limits=None, clock=clock.timestamp) as emu:
        url = emu.mint_response_url("C0GENERAL", "U0ALICE")
        clock.advance(minutes=30, seconds=1)
        reply = httpx.post(url, json={"text": "late"})
    assert (reply.status_code, reply.json()["error"]) == (404, "expired_url")


def post_buttons(emulator: Emulator) -> Message:
    blocks = [
        {
            "type": "actions",
            "block_id": "b",
            "elements": [
                {
                    "type": "button",
                    "action_id": "ok",
                    "value": "42",
                    "text": {"type": "plain_text", "text": "OK"},
                },
                {
                    "type": "static_select",
                    "action_id": "pick",
                    "options": [{"text": {"type": "plain_text", "text": "One"}, "value": "1"}],
                },
            ],
        }
    ]
    return emulator.state.post(
        Message(
            channel="C0GENERAL",
            ts=emulator.state.next_ts(),
            text="t",
            blocks=blocks,
            user="U0PLATBOT",
            bot_id="B0PLATBOT",
        )
    )


def test_block_action_on_a_message_has_slacks_shape(
    signer: SlackSigner, recording_app: RecordingApp, emulator: Emulator
) -> None:
    message = post_buttons(emulator)
    signer.block_action("U0CAROL", action_id="ok", message=("C0GENERAL", message.ts))
    signer.block_action(
        "U0CAROL", action_id="pick", selected_option="One", message=("C0GENERAL", message.ts)
    )

    click, pick = (r.payload for r in recording_app.requests)
    assert click["type"] == "block_actions"
    assert click["container"] == {
        "type": "message",
        "message_ts": message.ts,
        "channel_id": "C0GENERAL",
        "is_ephemeral": False,
    }
    assert click["user"] == {
        "id": "U0CAROL",
        "username": "carol",
        "name": "carol",
        "team_id": "T0PLATFORM",
    }
    assert click["channel"] == {"id": "C0GENERAL", "name": "general"}
    assert click["message"]["ts"] == message.ts  # type: ignore[index]
    assert str(click["response_url"]).startswith(emulator.base_url)
    actions: list[dict[str, object]] = click["actions"]  # type: ignore[assignment]
    [action] = actions
    assert {k: action[k] for k in ("type", "action_id", "block_id", "value")} == {
        "type": "button",
        "action_id": "ok",
        "block_id": "b",
        "value": "42",
    }
    assert pick["actions"][0]["selected_option"]["value"] == "1"  # type: ignore[index]


def open_form(emulator: Emulator) -> str:
    return emulator.state.open_modal("U0DAVE", FORM_VIEW).id


def test_view_submission_builds_typed_state_values(
    signer: SlackSigner, recording_app: RecordingApp, emulator: Emulator
) -> None:
    view_id = open_form(emulator)
    signer.view_submission(
        "U0DAVE",
        view_id,
        {
            "env": {"v": "Prod"},
            "checks": {"v": "tests,lint"},
            "owner": {"v": "alice"},
            "when": {"v": "2030-01-02"},
            "count": {"v": "3"},
        },
    )

    payload = recording_app.requests[0].payload
    values = payload["view"]["state"]["values"]  # type: ignore[index]
    assert payload["type"] == "view_submission"
    assert values["name"]["v"] == {"type": "plain_text_input", "value": "svc"}
    assert values["env"]["v"]["selected_option"]["value"] == "prod"
    assert [o["value"] for o in values["checks"]["v"]["selected_options"]] == ["tests", "lint"]
    assert values["owner"]["v"] == {"type": "users_select", "selected_user": "U0ALICE"}
    assert values["when"]["v"] == {"type": "datepicker", "selected_date": "2030-01-02"}
    assert values["count"]["v"] == {"type": "number_input", "value": "3"}
    assert emulator.state.modal_stack("U0DAVE") == []  # empty 200 closes the view


def test_response_actions_errors_update_push_and_clear(
    signer: SlackSigner, recording_app: RecordingApp, emulator: Emulator
) -> None:
    view_id = open_form(emulator)
    values = {"env": {"v": "prod"}}
    recording_app.reply({"response_action": "errors", "errors": {"name": "Taken"}})
    signer.view_submission("U0DAVE", view_id, values)
    assert emulator.state.modal_stack("U0DAVE")[0].errors == {"name": "Taken"}

    recording_app.reply(
        {
            "response_action": "update",
            "view": {**FORM_VIEW, "title": {"type": "plain_text", "text": "Again"}},
        }
    )
    signer.view_submission("U0DAVE", view_id, values)
    assert emulator.state.modal_stack("U0DAVE")[0].spec["title"]["text"] == "Again"

    recording_app.reply({"response_action": "push", "view": FORM_VIEW})
    signer.view_submission("U0DAVE", view_id, values)
    assert len(emulator.state.modal_stack("U0DAVE")) == 2

    recording_app.reply({"response_action": "clear"})
    signer.view_submission("U0DAVE", view_id, values)
    assert emulator.state.modal_stack("U0DAVE") == []


def test_view_closed_is_sent_only_with_notify_on_close(
    signer: SlackSigner, recording_app: RecordingApp, emulator: Emulator
) -> None:
    silent = emulator.state.open_modal("U0DAVE", {**FORM_VIEW, "notify_on_close": False}).id
    assert signer.view_closed("U0DAVE", silent) is None
    notified = open_form(emulator)

    response = signer.view_closed("U0DAVE", notified)

    assert response is not None and response.status == 200
    [request] = recording_app.requests
    assert (request.payload["type"], request.payload["is_cleared"]) == ("view_closed", False)
    assert dict(parse_qsl(request.body)).keys() == {"payload"}
    assert emulator.state.modal_stack("U0DAVE") == []
