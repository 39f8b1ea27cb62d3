"""A minimal Bolt app served over real HTTP, as the bot is: what the shell tests drive."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import Ack, App, Respond
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

from bot.emulator import Emulator

DEPLOY_VIEW: dict[str, Any] = {
    "type": "modal",
    "callback_id": "deploy",
    "title": {"type": "plain_text", "text": "Deploy"},
    "submit": {"type": "plain_text", "text": "Deploy"},
    "close": {"type": "plain_text", "text": "Cancel"},
    "blocks": [
        {
            "type": "input",
            "block_id": "service",
            "label": {"type": "plain_text", "text": "Service"},
            "element": {"type": "plain_text_input", "action_id": "value"},
        },
        {
            "type": "input",
            "block_id": "env",
            "label": {"type": "plain_text", "text": "Environment"},
            "element": {
                "type": "static_select",
                "action_id": "pick",
                "options": [
                    {"text": {"type": "plain_text", "text": "Staging"}, "value": "staging"},
                    {"text": {"type": "plain_text", "text": "Production"}, "value": "prod"},
                ],
            },
        },
    ],
}


def approval_blocks(service: str) -> list[dict[str, Any]]:
    return [
        {"type": "header", "text": {"type": "plain_text", "text": "Approval needed"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": f"Deploy *{service}*?"}},
        {
            "type": "actions",
            "block_id": "decision",
            "elements": [
                {
                    "type": "button",
                    "action_id": "approve",
                    "value": service,
                    "text": {"type": "plain_text", "text": "Approve"},
                },
                {
                    "type": "button",
                    "action_id": "deny",
                    "value": service,
                    "text": {"type": "plain_text", "text": "Deny"},
                },
            ],
        },
    ]


def build_app(emulator: Emulator) -> App:
    app = App(
        token=emulator.bot_token,
        signing_secret=emulator.signing_secret,
        client=WebClient(base_url=emulator.api_url, token=emulator.bot_token),
    )

    @app.command("/platform")
    def platform(ack: Ack, command: dict[str, Any], client: WebClient, respond: Respond) -> None:
        words = command["text"].split()
        verb = words[0] if words else "help"
        if verb == "hello":
            ack(f"Hello <@{command['user_id']}>, this is <#{command['channel_id']}>")
        elif verb == "deploy":
            ack()
            view = {**DEPLOY_VIEW, "private_metadata": command["channel_id"]}
            client.views_open(trigger_id=command["trigger_id"], view=view)
        elif verb == "approve":
            ack()
            client.chat_postMessage(
                channel=command["channel_id"],
                text="Approval needed",
                blocks=approval_blocks(words[1]),
            )
        elif verb == "announce":
            ack(response_type="in_channel", text="Everyone sees this")
        elif verb == "later":
            ack()
            respond("Done later, via response_url")
        else:
            ack("Usage: /platform hello|deploy|approve SERVICE|announce|later")

    @app.view("deploy")
    def deploy(ack: Ack, view: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        values = view["state"]["values"]
        service = values["service"]["value"]["value"]
        env = values["env"]["pick"]["selected_option"]["value"]
        if service == "unknown":
            ack(response_action="errors", errors={"service": "No such service"})
            return
        ack()
        client.chat_postMessage(
            channel=view["private_metadata"],
            text=f"<@{body['user']['id']}> deploys *{service}* to {env}",
        )

    @app.action("approve")
    def approve(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        text = f"Approved by <@{body['user']['id']}>"
        client.chat_update(
            channel=body["channel"]["id"],
            ts=body["message"]["ts"],
            text=text,
            blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
        )

    @app.action("deny")
    def deny(ack: Ack, respond: Respond) -> None:
        ack()
        respond(text="Denied", replace_original=True)

    return app


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve(app: App) -> Iterator[str]:
    """Serve the app on a free loopback port; yields its request URL."""
    server = make_server(
        "127.0.0.1",
        0,
        SlackRequestHandler(app),
        server_class=_ThreadingWSGIServer,
        handler_class=_QuietHandler,
    )
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/slack/events"
    finally:
        server.shutdown()
        server.server_close()
