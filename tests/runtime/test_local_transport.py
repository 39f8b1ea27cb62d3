"""The local bot (what `platform-bot shell` runs) reaches the app over either transport."""

from __future__ import annotations

from pathlib import Path

from bot.runtime.local import Transport
from tests.harness import running_bot


def test_over_socket_mode_commands_go_as_envelopes_and_acks_are_shown(
    tmp_path: Path, migrated_schema: Path
) -> None:
    with running_bot(tmp_path, schema=migrated_schema, transport=Transport.SOCKET) as bot:
        response = bot.signer.slash_command("U0ALICE", "whoami")

        assert response.status == 200
        [sent] = bot.emulator.socket_mode.sends()
        assert sent.payload["text"] == "whoami"
        [shown] = bot.emulator.state.ephemerals("U0ALICE")
        assert "Alice" in shown.text + str(shown.blocks)
        assert bot.app_url.startswith("ws://127.0.0.1:")
        assert bot.emulator.calls("apps.connections.open")


def test_over_http_nothing_goes_over_the_socket(tmp_path: Path, migrated_schema: Path) -> None:
    with running_bot(tmp_path, schema=migrated_schema) as bot:
        response = bot.signer.slash_command("U0ALICE", "whoami")

        assert response.status == 200
        assert bot.emulator.socket_mode.sends() == []
        assert bot.app_url.endswith("/slack/events")
