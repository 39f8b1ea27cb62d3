"""A Bolt app connected to the emulator over Socket Mode, as `platform-bot socket` connects."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler

from bot.emulator import Emulator


@contextmanager
def connected(app: App, emulator: Emulator) -> Iterator[SocketModeHandler]:
    handler = SocketModeHandler(app, app_token=emulator.app_token)
    opened = emulator.socket_mode.connections_opened
    handler.connect()
    try:
        assert emulator.socket_mode.wait_for_connection(newer_than=opened, timeout=10)
        yield handler
    finally:
        # Closed from the emulator's side first, so the client's reader stops at once
        # instead of waiting out its 3 s receive timeout.
        handler.client.auto_reconnect_enabled = False
        emulator.socket_mode.drop()
        handler.close()
