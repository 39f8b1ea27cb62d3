"""`Emulator`: a local Slack Web API server for running the bot with no Slack workspace.

Point slack_sdk at `api_url`, authenticate with `bot_token`, verify requests with
`signing_secret` (both random per instance, so a test cannot accidentally talk to a real
workspace), and use `SlackSigner` to send the app what Slack would send: over signed HTTP, or
over Socket Mode to an app connected with `app_token` (see `socket_mode.py`). `state`, `calls` and
the activity log let tests and the shell see what the app did.

For an app installed in several workspaces, `add_workspace` serves another one with its own
people, state and bot token, and `installs` plays Slack's OAuth v2 (`oauth.py`): the app
installs with `installs.client_id`/`client_secret` and gets each workspace's token.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from http.server import ThreadingHTTPServer
from pathlib import Path
from types import TracebackType

from bot.emulator.backend import Backend, ResponseTarget
from bot.emulator.limits import Faults, RateLimiter, RateLimits
from bot.emulator.oauth import Installs
from bot.emulator.params import ParamSpec
from bot.emulator.server import SCOPES, CallLog, Service, make_server, serve_in_thread
from bot.emulator.socket_mode import SocketMode
from bot.emulator.state import Activity, Message, State
from bot.emulator.workspace import Workspace

SLACK_RATE_LIMITS = RateLimits.slack()


class Emulator:
    """Slack for one app in one workspace (or more, `add_workspace`), over real HTTP on the
    loopback interface."""

    def __init__(
        self,
        workspace: Workspace | None = None,
        *,
        spec_dir: Path | None = None,
        rate_limits: RateLimits | None = SLACK_RATE_LIMITS,
        clock: Callable[[], float] = time.monotonic,
        fault_seed: int | None = None,
    ) -> None:
        self.workspace = workspace or Workspace.default()
        self._clock = clock
        self._rate_limits = rate_limits
        self._backend = Backend(self.workspace, clock, limiter=self._limiter())
        self.signing_secret = secrets.token_hex(16)
        self.faults = Faults(fault_seed)
        self.calls = CallLog()
        self.params = ParamSpec(spec_dir)
        self.installs = Installs(self._backend, scopes=SCOPES)
        # Socket Mode waits in real time (acks, retries), whatever clock the capabilities use.
        self.socket_mode = SocketMode(self._backend)
        self._service = Service(
            self._backend,
            self.installs,
            self.params,
            self.faults,
            self.calls,
            threading.Event(),
            self.socket_mode,
        )
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle ------------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> Emulator:
        if self._server is not None:
            raise RuntimeError("the emulator is already running")
        self._service.stopping.clear()
        self._server = make_server(self._service, host, port)
        bound_host, bound_port = self._server.server_address[:2]
        for backend in self.installs.backends():
            backend.base_url = f"http://{bound_host!s}:{bound_port}"
        self.socket_mode.host = str(bound_host)
        serve_in_thread(self._server)
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._service.stopping.set()  # releases connections held by timeout faults
        self.socket_mode.stop()
        self._server.shutdown()
        self._server.server_close()
        self._server = None

    def __enter__(self) -> Emulator:
        return self if self._server is not None else self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _limiter(self) -> RateLimiter | None:
        limits = self._rate_limits
        return RateLimiter(limits, self._clock) if limits is not None else None

    @property
    def bot_token(self) -> str:
        """The app's bot token in the first workspace: what SLACK_BOT_TOKEN must be set to."""
        return self._backend.bot_token

    # -- more workspaces, installed through OAuth -----------------------------------------

    def add_workspace(self, workspace: Workspace) -> Backend:
        """Serve another workspace (its own people, channels, state and bot token); an app
        gets its token by installing through OAuth (`installs`, `oauth_authorize_url`)."""
        backend = Backend(workspace, self._clock, limiter=self._limiter())
        backend.base_url = self._backend.base_url
        self.installs.add(backend)
        return backend

    def backend_for(self, team_id: str) -> Backend:
        backend = self.installs.backend(team_id)
        if backend is None:
            raise LookupError(f"the emulator serves no workspace {team_id}")
        return backend

    @property
    def oauth_authorize_url(self) -> str:
        """Slack's authorize page, where an app's install link sends the person."""
        return f"{self.base_url}/oauth/v2/authorize"

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("start the emulator first")
        return self._backend.base_url

    @property
    def api_url(self) -> str:
        """What SLACK_API_URL / `WebClient(base_url=...)` must be set to."""
        return f"{self.base_url}/api/"

    @property
    def app_token(self) -> str:
        """What SLACK_APP_TOKEN must be set to for Socket Mode."""
        return self.socket_mode.app_token

    # -- what happened --------------------------------------------------------------------

    @property
    def state(self) -> State:
        return self._backend.state

    @property
    def backend(self) -> Backend:
        return self._backend

    def messages(self, channel: str) -> list[Message]:
        """Messages of a channel by id or name, oldest first."""
        found = self.workspace.channel(channel)
        return self.state.messages(found.id if found else channel)

    @property
    def cursor(self) -> int:
        return self.state.cursor

    def activity_since(self, cursor: int) -> list[Activity]:
        return self.state.since(cursor)

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 15.0) -> bool:
        """Wait until `predicate()` holds, re-checking whenever the workspace changes."""
        return self.state.wait_for(predicate, timeout)

    def wait_idle(self, idle: float = 0.15, timeout: float = 10.0) -> bool:
        """Wait until no request was in flight and nothing changed for `idle` seconds."""
        return self.state.wait_idle(idle, timeout)

    # -- capabilities Slack hands to apps -------------------------------------------------

    def mint_trigger_id(self, user_id: str) -> str:
        return self._backend.mint_trigger(user_id)

    def mint_response_url(
        self,
        channel_id: str,
        user_id: str,
        *,
        message_ts: str | None = None,
        ephemeral: bool = False,
    ) -> str:
        target = ResponseTarget(channel_id, user_id, message_ts=message_ts, ephemeral=ephemeral)
        return self._backend.mint_response_url(target)
