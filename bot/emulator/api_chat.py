"""chat.* and files upload v2: everything that puts content in front of people."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bot.emulator.backend import Backend
from bot.emulator.blockkit import assign_ids, check_message_blocks
from bot.emulator.params import ApiError, Args
from bot.emulator.shapes import message_json
from bot.emulator.state import JSON, Ephemeral, Message, random_id

MAX_TEXT = 40_000


def message_content(text: str, blocks: Any, *, has_attachments: bool = False) -> list[JSON]:
    """Validate text and blocks as Slack does for any new message; returns the blocks."""
    if blocks in (None, ""):
        blocks = []
    if not isinstance(blocks, list):
        raise ApiError("invalid_blocks_format")
    if not text and not blocks and not has_attachments:
        raise ApiError("no_text")
    if len(text) > MAX_TEXT:
        raise ApiError("msg_too_long")
    errors = check_message_blocks(blocks)
    if errors:
        raise ApiError("invalid_blocks", messages=errors)
    return assign_ids(blocks)


def _content(args: Args) -> tuple[str, list[JSON]]:
    text = args.get("text")
    return text, message_content(text, args.json("blocks"), has_attachments="attachments" in args)


def post_message(backend: Backend, args: Args) -> JSON:
    channel = backend.postable_channel(args.get("channel"))
    text, blocks = _content(args)
    thread_ts = args.opt("thread_ts")
    if thread_ts and backend.state.find(channel, thread_ts) is None:
        thread_ts = None  # Slack posts to the channel when the parent is unknown
    bot = backend.bot
    message = backend.state.post(
        Message(
            channel=channel,
            ts=backend.state.next_ts(),
            text=text,
            blocks=blocks,
            user=bot.id,
            bot_id=bot.bot_id,
            thread_ts=thread_ts,
        )
    )
    return {"channel": channel, "ts": message.ts, "message": message_json(backend, message)}


def post_ephemeral(backend: Backend, args: Args) -> JSON:
    channel = backend.postable_channel(args.get("channel"))
    user = backend.user(args.get("user"))
    conversation = backend.conversation(channel)
    if user.id not in backend.members(conversation):
        raise ApiError("user_not_in_channel")
    text, blocks = _content(args)
    ephemeral = backend.state.post_ephemeral(
        Ephemeral(
            channel=channel,
            user=user.id,
            ts=backend.state.next_ts(),
            text=text,
            blocks=blocks,
            thread_ts=args.opt("thread_ts"),
            bot_id=backend.bot.bot_id,
        )
    )
    return {"message_ts": ephemeral.ts}


def _own_message(backend: Backend, args: Args, error: str) -> Message:
    channel = backend.conversation(args.get("channel"))
    channel_id = channel if isinstance(channel, str) else channel.id
    message = backend.state.find(channel_id, args.get("ts"))
    if message is None:
        raise ApiError("message_not_found")
    if message.bot_id != backend.bot.bot_id:
        raise ApiError(error)
    return message


def update(backend: Backend, args: Args) -> JSON:
    message = _own_message(backend, args, "cant_update_message")
    text = args.get("text", message.text)
    blocks = args.json("blocks") if "blocks" in args.values else message.blocks
    blocks = message_content(text, blocks, has_attachments="attachments" in args)
    edited = backend.state.edit(
        message.channel, message.ts, text=text, blocks=blocks, editor=backend.bot.id
    )
    return {
        "channel": edited.channel,
        "ts": edited.ts,
        "text": edited.text,
        "message": message_json(backend, edited),
    }


def delete(backend: Backend, args: Args) -> JSON:
    message = _own_message(backend, args, "cant_delete_message")
    backend.state.delete(message.channel, message.ts)
    return {"channel": message.channel, "ts": message.ts}


def get_upload_url(backend: Backend, args: Args) -> JSON:
    length = args.number("length", 0)
    if length <= 0:
        raise ApiError("invalid_arguments", messages=["[ERROR] length must be positive"])
    file_id = random_id("F")
    name = args.get("filename")
    backend.state.put_file(
        {
            "id": file_id,
            "name": name,
            "title": name,
            "size": length,
            "uploaded": False,
            "alt_txt": args.get("alt_txt"),
            "content": b"",
        }
    )
    return {"upload_url": f"{backend.base_url}/upload/v1/{file_id}", "file_id": file_id}


def store_upload(backend: Backend, file_id: str, content: bytes) -> bool:
    """The upload URL's handler: keep the bytes; False when the id was never issued."""
    file = backend.state.file(file_id)
    if file is None:
        return False
    file.update(content=content, size=len(content), uploaded=True)
    backend.state.record("file_uploaded", detail=file_id)
    return True


def _file_json(backend: Backend, file: JSON, channels: list[str]) -> JSON:
    name = str(file["name"])
    return {
        "id": file["id"],
        "created": int(time.time()),
        "timestamp": int(time.time()),
        "name": name,
        "title": file["title"],
        "mimetype": "application/octet-stream",
        "filetype": name.rpartition(".")[2] if "." in name else "binary",
        "user": backend.bot.id,
        "size": file["size"],
        "url_private": f"{backend.base_url}/files/{file['id']}/{name}",
        "permalink": f"{backend.base_url}/files/{file['id']}",
        "channels": channels,
        "is_external": False,
    }


def complete_upload(backend: Backend, args: Args) -> JSON:
    entries = args.json("files")
    if not isinstance(entries, list) or not entries:
        raise ApiError("invalid_arguments", messages=["[ERROR] files must be a non-empty array"])
    channel = args.opt("channel_id")
    channel_id = backend.postable_channel(channel) if channel else None
    shared: list[JSON] = []
    for entry in entries:
        file = backend.state.file(str(entry.get("id", ""))) if isinstance(entry, dict) else None
        if file is None or not file["uploaded"]:
            raise ApiError("file_not_found")
        if entry.get("title"):
            file["title"] = entry["title"]
        shared.append(_file_json(backend, file, [channel_id] if channel_id else []))
    if channel_id:
        thread_ts = args.opt("thread_ts")
        bot = backend.bot
        backend.state.post(
            Message(
                channel=channel_id,
                ts=backend.state.next_ts(),
                text=args.get("initial_comment"),
                blocks=[],
                user=bot.id,
                bot_id=bot.bot_id,
                thread_ts=thread_ts,
                files=shared,
                subtype="file_share",
            )
        )
    return {"files": shared}


METHODS: dict[str, Callable[[Backend, Args], JSON]] = {
    "chat.postMessage": post_message,
    "chat.postEphemeral": post_ephemeral,
    "chat.update": update,
    "chat.delete": delete,
    "files.getUploadURLExternal": get_upload_url,
    "files.completeUploadExternal": complete_upload,
}
