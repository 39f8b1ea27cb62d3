"""App-wide behaviour: acks survive listener errors, errors become messages."""

from __future__ import annotations

import json
import logging
import time
from typing import Any
from urllib.parse import quote

import pytest
from slack_bolt import Ack, App, Args, BoltRequest
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier

from bot.core.errors import NotAllowed
from bot.core.feature import Listener, ListenerKind
from bot.runtime.app import (
    StickyAck,
    errors_after_ack_shown_here,
    handle_error,
    keep_acks,
    register_listener,
)

SECRET = "app-test-signing-secret"
RESPONSE_URL = "https://hooks.slack.com/actions/T0PLATFORM/1/x"


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

    register_listener(app, Listener(ListenerKind.ACTION, "go", ack_then_fail))
    return app


def _payload() -> dict[str, Any]:
    return {
        "type": "block_actions",
        "user": {"id": "U0BOB"},
        "team": {"id": "T0PLATFORM"},
        "api_app_id": "A0PLATBOT",
        "container": {"type": "message"},
        "trigger_id": "1.2.3",
        "actions": [{"action_id": "go", "block_id": "b", "type": "button", "action_ts": "1"}],
    }


def _block_action() -> BoltRequest:
    body = "payload=" + quote(json.dumps(_payload()))
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
    for _ in range(50):  # the lost-answer races need the error at one moment of Bolt's poll
        response = app.dispatch(_block_action())
        assert response.status == 200
        assert response.body == "on it"


class _Recorded:
    def __init__(self) -> None:
        self.replies: list[dict[str, Any]] = []

    def __call__(self, **reply: Any) -> None:
        self.replies.append(reply)


def _args(ack: StickyAck, respond: _Recorded) -> Args:
    body = _payload() | {"response_url": RESPONSE_URL}
    return Args(
        client=WebClient(base_url="http://127.0.0.1:9/api/"),
        logger=logging.getLogger("test"),
        req=None,  # type: ignore[arg-type]
        resp=None,  # type: ignore[arg-type]
        context=None,  # type: ignore[arg-type]
        body=body,
        payload=body,
        ack=ack,
        say=None,  # type: ignore[arg-type]
        respond=respond,  # type: ignore[arg-type]
        complete=None,  # type: ignore[arg-type]
        fail=None,  # type: ignore[arg-type]
        next=lambda: None,
    )


def test_an_error_after_the_ack_is_shown_to_the_person_and_not_raised_to_bolt() -> None:
    def ack_then_refuse(ack: Ack) -> None:
        ack()
        raise NotAllowed("These credentials were already revealed.")

    respond = _Recorded()
    errors_after_ack_shown_here(ack_then_refuse)(_args(StickyAck(), respond))

    assert [r.get("text") for r in respond.replies] == ["These credentials were already revealed."]


def test_an_error_before_the_ack_goes_to_bolt_which_makes_it_the_answer() -> None:
    def refuse(ack: Ack) -> None:
        raise NotAllowed("Only the owner may do that.")

    respond = _Recorded()
    with pytest.raises(NotAllowed):
        errors_after_ack_shown_here(refuse)(_args(StickyAck(), respond))
    assert respond.replies == []


def test_the_handler_gets_the_arguments_it_names() -> None:
    seen: dict[str, Any] = {}

    def handler(ack: Ack, body: dict[str, Any], respond: Any) -> None:
        seen.update(ack=ack, body=body, respond=respond)

    ack, respond = StickyAck(), _Recorded()
    errors_after_ack_shown_here(handler)(_args(ack, respond))

    assert seen == {
        "ack": ack,
        "body": _payload() | {"response_url": RESPONSE_URL},
        "respond": respond,
    }
