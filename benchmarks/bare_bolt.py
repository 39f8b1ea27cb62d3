"""The baseline: a bare Bolt app whose `/platform` listener only acks.

Served by the same gunicorn configuration as `platform-bot serve`, so the difference
between the two is what Platform Bot adds (routing, identity, policy, usage records).
"""

from __future__ import annotations

import argparse
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import Ack, App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot.runtime.server import GunicornServer


def build_bare_app(signing_secret: str, listener_threads: int) -> SlackRequestHandler:
    app = App(
        signing_secret=signing_secret,
        # The baseline does no Web API calls; authorize statically instead of via auth.test.
        authorize=lambda **_: _authorization(),
        listener_executor=ThreadPoolExecutor(max_workers=listener_threads),
    )

    def only_ack(ack: Ack) -> None:
        ack("ok")

    app.command("/platform")(only_ack)
    return SlackRequestHandler(app)


def _authorization() -> Any:
    from slack_bolt.authorization import AuthorizeResult

    return AuthorizeResult(enterprise_id=None, team_id="T0PLATFORM", bot_user_id="U0PLATBOT")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--signing-secret", required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=32)
    args = parser.parse_args()

    def load() -> tuple[Any, Any]:
        return build_bare_app(args.signing_secret, args.threads), lambda: None

    GunicornServer(
        load,
        bind=f"127.0.0.1:{args.port}",
        workers=args.workers,
        threads=args.threads,
        log_level="warning",
    ).run()


if __name__ == "__main__":
    main()
