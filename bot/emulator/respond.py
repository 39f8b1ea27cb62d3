"""What Slack shows for an app's replies that are not Web API calls: acks and response_urls.

Both carry the same message body (`text`/`blocks`, `response_type`, `replace_original`,
`delete_original`, `thread_ts`); ephemeral is the default, and `in_channel` slash command
replies also show the person's command in the channel, as the Slack client does.
"""

from __future__ import annotations

import json
from typing import Any

from bot.emulator.api_chat import message_content
from bot.emulator.backend import Backend, ResponseTarget
from bot.emulator.params import ApiError
from bot.emulator.state import JSON, Ephemeral, Message


def deliver(backend: Backend, target: ResponseTarget, body: JSON) -> None:
    """Apply one response body to the workspace; raises ApiError for bodies Slack rejects."""
    state = backend.state
    if body.get("delete_original") in (True, "true"):
        if target.message_ts is None:
            raise ApiError("cant_delete_message")
        if target.ephemeral:
            state.delete_ephemeral(target.user, target.message_ts)
        else:
            state.delete(target.channel, target.message_ts)
        return
    text = str(body.get("text") or "")
    blocks = message_content(
        text, body.get("blocks"), has_attachments=bool(body.get("attachments"))
    )
    if body.get("replace_original") in (True, "true") and target.message_ts:
        if target.ephemeral:
            state.replace_ephemeral(target.user, target.message_ts, text=text, blocks=blocks)
        else:
            state.edit(
                target.channel, target.message_ts, text=text, blocks=blocks, editor=backend.bot.id
            )
        return
    thread_ts = str(body["thread_ts"]) if body.get("thread_ts") else None
    bot = backend.bot
    if body.get("response_type") == "in_channel":
        state.post(
            Message(
                channel=target.channel,
                ts=state.next_ts(),
                text=text,
                blocks=blocks,
                user=bot.id,
                bot_id=bot.bot_id,
                thread_ts=thread_ts,
            )
        )
    else:
        state.post_ephemeral(
            Ephemeral(
                channel=target.channel,
                user=target.user,
                ts=state.next_ts(),
                text=text,
                blocks=blocks,
                thread_ts=thread_ts,
                bot_id=bot.bot_id,
            )
        )


def parse_ack(content_type: str, text: str) -> JSON | None:
    """An ack's message body: JSON as sent, plain text as an ephemeral, empty as None."""
    if not text.strip():
        return None
    if "json" in content_type:
        try:
            parsed: Any = json.loads(text)
        except ValueError:
            return {"text": text}
        return parsed if isinstance(parsed, dict) else None
    return {"text": text}


def record_command_ack(
    backend: Backend, target: ResponseTarget, command: str, text: str, body: JSON
) -> None:
    """Show a slash command's ack as Slack does, or Slack's error when the body is invalid."""
    state = backend.state
    if body.get("response_type") == "in_channel":
        state.post(
            Message(
                channel=target.channel,
                ts=state.next_ts(),
                text=f"{command} {text}".rstrip(),
                blocks=[],
                user=target.user,
            )
        )
    if not body.get("text") and not body.get("blocks"):
        return
    try:
        deliver(backend, target, body)
    except ApiError as exc:
        command_failed(backend, target, command, exc.code)


def command_failed(backend: Backend, target: ResponseTarget, command: str, error: str) -> None:
    """Slackbot's ephemeral when the app's endpoint fails, e.g. `dispatch_failed`."""
    state = backend.state
    state.post_ephemeral(
        Ephemeral(
            channel=target.channel,
            user=target.user,
            ts=state.next_ts(),
            text=f'{command} failed with the error "{error}"',
            blocks=[],
        )
    )
