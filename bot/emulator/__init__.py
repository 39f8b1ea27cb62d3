"""A local Slack: Web API server, request signer and REPL shell for running the bot offline.

`Emulator` serves the Web API methods the bot uses and keeps what people would see;
`SlackSigner` sends the app Slack's slash commands, interactivity payloads and events, as
signed HTTP POSTs or as Socket Mode envelopes (`SocketMode`, the emulator's `socket_mode`);
`Shell` lets a person (or a script on stdin) drive both from a terminal.
"""

from bot.emulator.delivery import SignedResponse
from bot.emulator.emulator import Emulator
from bot.emulator.limits import RateLimits
from bot.emulator.shell import Shell
from bot.emulator.signer import SlackSigner, SubmissionBlocked
from bot.emulator.socket_mode import SocketMode
from bot.emulator.workspace import Workspace

__all__ = [
    "Emulator",
    "RateLimits",
    "Shell",
    "SignedResponse",
    "SlackSigner",
    "SocketMode",
    "SubmissionBlocked",
    "Workspace",
]
