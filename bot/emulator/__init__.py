"""A local Slack: Web API server, request signer and REPL shell for running the bot offline.

`Emulator` serves the Web API methods the bot uses and keeps what people would see;
`SlackSigner` sends the app Slack's signed slash commands and interactivity payloads;
`Shell` lets a person (or a script on stdin) drive both from a terminal.
"""

from bot.emulator.emulator import Emulator
from bot.emulator.limits import RateLimits
from bot.emulator.shell import Shell
from bot.emulator.signer import SignedResponse, SlackSigner, SubmissionBlocked
from bot.emulator.workspace import Workspace

__all__ = [
    "Emulator",
    "RateLimits",
    "Shell",
    "SignedResponse",
    "SlackSigner",
    "SubmissionBlocked",
    "Workspace",
]
