"""A Slack emulator in its own process: `python -m benchmarks.emulator_process USERS SCALE SEED`.

Prints one JSON line (api_url, bot_token, signing_secret) and serves until stdin closes. A
benchmark that shares one process with the emulator measures the emulator's CPU as much as
the bot's; in a separate process each has its own interpreter and core, as with real Slack.

With a fourth argument `beside-fixture`, the USERS synthetic people join the packaged
fixture's people (whom the example config names) in a channel of their own, `C0LOAD`.
"""

from __future__ import annotations

import json
import sys

from bot.emulator import Emulator
from bot.emulator.limits import RateLimits
from bot.emulator.workspace import Workspace

BESIDE_FIXTURE = "beside-fixture"


def main() -> None:
    users, scale, seed = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
    beside = Workspace.default() if sys.argv[4:5] == [BESIDE_FIXTURE] else None
    emulator = Emulator(
        workspace=Workspace.generate(users=users, beside=beside),
        rate_limits=RateLimits.slack().scaled(scale),
        fault_seed=seed,
    )
    emulator.start()
    print(
        json.dumps(
            {
                "api_url": emulator.api_url,
                "bot_token": emulator.bot_token,
                "signing_secret": emulator.signing_secret,
            }
        ),
        flush=True,
    )
    sys.stdin.read()
    emulator.stop()


if __name__ == "__main__":
    main()
