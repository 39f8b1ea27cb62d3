"""Socket Mode on the wire: what the emulator sends an app over the WebSocket, what it takes as
an ack, and what it does when acks are late or lost and connections close.

The app here is a raw WebSocket client that records every message and acks as told, so each
test sees exactly what a Socket Mode client would see.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from slack_sdk import WebClient
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from bot.emulator import Emulator, SlackSigner
from bot.emulator.delivery import EnvelopeType
from tests.core.polling import wait_until

Answer = Callable[[dict[str, Any]], dict[str, Any] | None]
"""What the app acks an envelope with: a payload ({} for none), or None for no ack at all."""


def ack_empty(_: dict[str, Any]) -> dict[str, Any] | None:
    return {}


def never_ack(_: dict[str, Any]) -> dict[str, Any] | None:
    return None


@dataclass
class RawApp:
    """A Socket Mode app on a plain WebSocket: records what arrives, acks with `answer`."""

    connection: ClientConnection
    answer: Answer = ack_empty
    received: list[dict[str, Any]] = field(default_factory=list)
    ended: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        try:
            for raw in self.connection:
                message = json.loads(raw)
                self.received.append(message)
                if "envelope_id" not in message:
                    continue
                payload = self.answer(message)
                if payload is not None:
                    ack = {"envelope_id": message["envelope_id"]}
                    self.connection.send(
                        json.dumps({**ack, "payload": payload} if payload else ack)
                    )
        except ConnectionClosed:
            pass
        finally:
            self.ended.set()

    @property
    def close_code(self) -> int | None:
        """The code of the emulator's close frame, once the connection has ended."""
        return self.connection.close_code if self.ended.is_set() else None

    def envelopes(self) -> list[dict[str, Any]]:
        return [m for m in self.received if "envelope_id" in m]


def open_url(emulator: Emulator) -> str:
    client = WebClient(base_url=emulator.api_url)
    return str(client.apps_connections_open(app_token=emulator.app_token)["url"])


@pytest.fixture
def apps(emulator: Emulator) -> Iterator[Callable[..., RawApp]]:
    """Connects raw apps to the emulator; each is greeted before the test goes on."""
    with ExitStack() as stack:
        threads: list[threading.Thread] = []

        def start(answer: Answer = ack_empty) -> RawApp:
            connection = connect(open_url(emulator), compression=None, close_timeout=1)
            app = RawApp(stack.enter_context(connection), answer)
            thread = threading.Thread(target=app.run, daemon=True)
            thread.start()
            threads.append(thread)
            assert wait_until(lambda: bool(app.received))
            return app

        yield start
        stack.close()
        for thread in threads:
            thread.join(timeout=5)


@pytest.fixture
def quick_retries(emulator: Emulator) -> None:
    """Acks are due within 0.5 s instead of Slack's 3 s, so retries come quickly."""
    emulator.socket_mode.outbox.ack_timeout = 0.5


# -- apps.connections.open and the handshake ----------------------------------------------


def test_apps_connections_open_gives_a_websocket_url_for_the_app_level_token(
    emulator: Emulator,
) -> None:
    url = open_url(emulator)

    assert url.startswith(f"ws://127.0.0.1:{emulator.socket_mode.url.split(':')[2]}")
    assert "ticket=" in url and url.endswith("&app_id=A0PLATBOT")


@pytest.mark.parametrize(
    ("token", "error"),
    [("", "not_authed"), ("bot", "not_allowed_token_type"), ("xapp-1-other", "invalid_auth")],
)
def test_apps_connections_open_refuses_other_tokens(
    emulator: Emulator, token: str, error: str
) -> None:
    token = emulator.bot_token if token == "bot" else token
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = httpx.post(f"{emulator.api_url}apps.connections.open", headers=headers).json()

    assert body == {"ok": False, "error": error}


def test_a_ticket_opens_one_connection_only(emulator: Emulator) -> None:
    url = open_url(emulator)
    with connect(url, compression=None) as first:
        hello = json.loads(first.recv(timeout=5))
        with pytest.raises(InvalidStatus) as refused:
            connect(url, compression=None)
    assert refused.value.response.status_code == 401
    assert hello["type"] == "hello"
    with pytest.raises(InvalidStatus):
        connect(url.split("?")[0], compression=None)  # no ticket at all


def test_hello_tells_each_connection_how_many_are_open(
    emulator: Emulator, apps: Callable[..., RawApp]
) -> None:
    first, second = apps(), apps()

    assert first.received[0]["num_connections"] == 1
    assert second.received[0]["num_connections"] == 2
    assert second.received[0]["connection_info"] == {"app_id": "A0PLATBOT"}
    assert emulator.socket_mode.connections == 2


# -- envelopes and their acks ---------------------------------------------------------------


def test_a_slash_command_arrives_in_an_envelope_and_the_ack_payload_is_shown(
    emulator: Emulator, apps: Callable[..., RawApp]
) -> None:
    app = apps(lambda envelope: {"text": f"Hello {envelope['payload']['user_name']}"})
    signer = SlackSigner.over_socket(emulator)

    response = signer.slash_command("U0ALICE", "hello")

    [envelope] = app.envelopes()
    assert envelope["type"] == "slash_commands"
    assert envelope["accepts_response_payload"] is True
    assert "retry_attempt" not in envelope  # only retries carry it
    assert envelope["payload"]["command"] == "/platform"
    assert envelope["payload"]["text"] == "hello"
    assert response.status == 200 and response.json == {"text": "Hello alice"}
    assert [e.text for e in emulator.state.ephemerals("U0ALICE")] == ["Hello alice"]


def test_a_modal_submission_acked_with_errors_shows_them_in_the_modal(
    emulator: Emulator, apps: Callable[..., RawApp], client: WebClient
) -> None:
    view = {
        "type": "modal",
        "callback_id": "name",
        "title": {"type": "plain_text", "text": "Name"},
        "submit": {"type": "plain_text", "text": "Save"},
        "blocks": [
            {
                "type": "input",
                "block_id": "name",
                "label": {"type": "plain_text", "text": "Name"},
                "element": {"type": "plain_text_input", "action_id": "value"},
            }
        ],
    }
    client.views_open(trigger_id=emulator.mint_trigger_id("U0ALICE"), view=view)
    [opened] = emulator.state.modal_stack("U0ALICE")
    app = apps(lambda _: {"response_action": "errors", "errors": {"name": "Too short"}})

    SlackSigner.over_socket(emulator).view_submission(
        "U0ALICE", opened.id, {"name": {"value": "x"}}
    )

    [envelope] = app.envelopes()
    assert envelope["type"] == "interactive"
    assert envelope["payload"]["type"] == "view_submission"
    [still_open] = emulator.state.modal_stack("U0ALICE")
    assert still_open.errors == {"name": "Too short"}


def test_an_event_carries_its_retry_fields_and_its_ack_payload_is_ignored(
    emulator: Emulator, apps: Callable[..., RawApp]
) -> None:
    app = apps(lambda _: {"text": "nobody sees this"})

    response = SlackSigner.over_socket(emulator).event({"type": "app_home_opened", "user": "U0BOB"})

    [envelope] = app.envelopes()
    assert envelope["type"] == "events_api"
    assert envelope["accepts_response_payload"] is False
    assert (envelope["retry_attempt"], envelope["retry_reason"]) == (0, "")
    assert envelope["payload"]["event"]["type"] == "app_home_opened"
    assert response.status == 200 and response.body == ""


def test_an_envelope_nobody_acks_is_sent_again_three_times_then_given_up(
    emulator: Emulator, apps: Callable[..., RawApp], quick_retries: None
) -> None:
    app = apps(never_ack)
    signer = SlackSigner.over_socket(emulator, ack_timeout=0.1)

    response = signer.slash_command("U0ALICE", "hello")

    assert response.status == 0
    assert wait_until(lambda: len(emulator.socket_mode.outbox.expired) == 1, timeout=10)
    sent = app.envelopes()
    assert [e.get("retry_attempt", 0) for e in sent] == [0, 1, 2, 3]
    assert [e.get("retry_reason", "") for e in sent] == ["", "timeout", "timeout", "timeout"]
    assert len({e["envelope_id"] for e in sent}) == 1
    assert [e.text for e in emulator.state.ephemerals("U0ALICE")] == [
        '/platform failed with the error "operation_timeout"'
    ]


def test_a_lost_ack_is_retried_and_the_retry_ack_is_the_answer(
    emulator: Emulator, apps: Callable[..., RawApp], quick_retries: None
) -> None:
    app = apps(lambda _: {"text": "done"})
    emulator.socket_mode.lose_acks(1)

    response = SlackSigner.over_socket(emulator).slash_command("U0ALICE", "hello")

    assert response.status == 200 and response.json == {"text": "done"}
    first, retry = app.envelopes()[:2]  # a slow machine may see one more retry
    assert first["envelope_id"] == retry["envelope_id"]
    assert (retry["retry_attempt"], retry["retry_reason"]) == (1, "timeout")
    assert emulator.socket_mode.outbox.lost_acks == [first["envelope_id"]]


def test_acks_that_are_not_acks_are_ignored_and_the_real_one_counts(
    emulator: Emulator, apps: Callable[..., RawApp], quick_retries: None
) -> None:
    app = apps(never_ack)
    envelope = emulator.socket_mode.send(EnvelopeType.EVENTS_API, {"type": "event_callback"})
    assert wait_until(lambda: bool(app.envelopes()))
    for junk in ("not json", "[]", '{"no": "id"}', '{"envelope_id": 7}', '{"envelope_id": "x"}'):
        app.connection.send(junk)
    app.connection.send(json.dumps({"envelope_id": envelope.id}))

    assert envelope.acked.wait(5)
    assert emulator.socket_mode.connections == 1


def test_an_ack_over_the_size_limit_closes_the_connection(
    emulator: Emulator, apps: Callable[..., RawApp]
) -> None:
    app = apps(never_ack)

    app.connection.send(json.dumps({"envelope_id": "x", "payload": {"text": "a" * 1024 * 1024}}))

    assert app.ended.wait(5)
    assert app.close_code == 1009  # message too big
    assert wait_until(lambda: emulator.socket_mode.connections == 0)


# -- connections that close -----------------------------------------------------------------


def test_an_envelope_sent_while_no_app_is_connected_waits_and_goes_once(
    emulator: Emulator, apps: Callable[..., RawApp]
) -> None:
    envelope = emulator.socket_mode.send(EnvelopeType.EVENTS_API, {"type": "event_callback"})

    app = apps()

    assert envelope.acked.wait(5)
    [received] = app.envelopes()
    assert received["envelope_id"] == envelope.id and received["retry_attempt"] == 0
    assert len(emulator.socket_mode.sends(envelope.id)) == 1


def test_an_envelope_unacked_when_its_connection_closes_goes_again_on_the_next(
    emulator: Emulator, apps: Callable[..., RawApp]
) -> None:
    silent = apps(never_ack)
    envelope = emulator.socket_mode.send(EnvelopeType.SLASH_COMMANDS, {"command": "/platform"})
    assert wait_until(lambda: bool(silent.envelopes()))
    silent.connection.close()

    acking = apps()

    assert envelope.acked.wait(5)
    [again] = acking.envelopes()
    assert again["envelope_id"] == envelope.id
    assert (again["retry_attempt"], again["retry_reason"]) == (1, "timeout")
    assert [s.retry_attempt for s in emulator.socket_mode.sends(envelope.id)] == [0, 1]


def test_a_retry_goes_to_another_connection_when_there_is_one(
    emulator: Emulator, apps: Callable[..., RawApp], quick_retries: None
) -> None:
    first, second = apps(never_ack), apps(never_ack)
    envelope = emulator.socket_mode.send(EnvelopeType.EVENTS_API, {"type": "event_callback"})

    assert wait_until(lambda: len(emulator.socket_mode.sends(envelope.id)) >= 3, timeout=10)
    links = [s.link for s in emulator.socket_mode.sends(envelope.id)][:3]
    assert links[0] != links[1] and links[1] != links[2]
    assert first.envelopes() and second.envelopes()


def test_drop_closes_every_connection_as_going_away(
    emulator: Emulator, apps: Callable[..., RawApp]
) -> None:
    first, second = apps(), apps()

    emulator.socket_mode.drop()

    assert first.ended.wait(5) and second.ended.wait(5)
    assert (first.close_code, second.close_code) == (1001, 1001)
    assert wait_until(lambda: emulator.socket_mode.connections == 0)


def test_disconnect_asks_the_app_to_move_and_closes_after_the_grace(
    emulator: Emulator, apps: Callable[..., RawApp]
) -> None:
    old = apps()

    emulator.socket_mode.disconnect("refresh_requested", grace=0.3)
    new = apps()
    envelope = emulator.socket_mode.send(EnvelopeType.EVENTS_API, {"type": "event_callback"})

    assert envelope.acked.wait(5)
    assert old.received[-1] == {
        "type": "disconnect",
        "reason": "refresh_requested",
        "debug_info": {"host": "applink-emulator"},
    }
    assert [e["envelope_id"] for e in new.envelopes()] == [envelope.id]  # not on the old one
    assert old.ended.wait(5) and old.close_code == 1001
    assert not new.ended.is_set()


def test_a_disconnect_warning_leaves_the_connection_open(
    emulator: Emulator, apps: Callable[..., RawApp]
) -> None:
    app = apps()

    emulator.socket_mode.disconnect("warning", grace=0.01)

    assert wait_until(lambda: app.received[-1].get("reason") == "warning")
    assert not app.ended.wait(0.3)
    with pytest.raises(ValueError, match="reason must be one of"):
        emulator.socket_mode.disconnect("please")
