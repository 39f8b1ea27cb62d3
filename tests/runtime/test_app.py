"""App-wide behaviour: acks survive listener errors, errors become messages."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import quote

from slack_bolt import Ack, App, BoltRequest
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier

from bot.runtime.app import handle_error, keep_acks

SECRET = "app-test-signing-secret"


def _app() -> App:
    app = App(
        signing_secret=SECRET,
        client=WebClient(base_url="http://127.0.0.1:9/api/"),
        authorize=lambda **_: AuthorizeResult(
            enterprise_id=None, team_id="T0PLATFORM", bot_user_id="U0PLATBOT"
        ),
    )
    app.use(keep_acks)
    app.error(handle_error)

    def ack_then_fail(ack: Ack) -> None:
        ack(text="on it")
        raise RuntimeError("the work after the ack failed")

    app.action("go")(ack_then_fail)
    return app


def _block_action() -> BoltRequest:
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": "U0BOB"},
        "team": {"id": "T0PLATFORM"},
        "api_app_id": "A0PLATBOT",
        "container": {"type": "message"},
        "trigger_id": "1.2.3",
        "actions": [{"action_id": "go", "block_id": "b", "type": "button", "action_ts": "1"}],
    }
    body = "payload=" + quote(json.dumps(payload))
    ts = str(int(time.time()))
    signature = SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body)
    return BoltRequest(
        body=body,
        headers={
            "content-type": ["application/x-www-form-urlencoded"],
            "x-slack-request-timestamp": [ts],
            "x-slack-signature": [signature],
        },
    )


def test_an_answer_given_before_a_listener_fails_is_still_sent() -> None:
    app = _app()
    for _ in range(5):  # the lost-answer race needs the error inside one 10 ms poll
        response = app.dispatch(_block_action())
        assert response.status == 200
        assert response.body == "on it"
