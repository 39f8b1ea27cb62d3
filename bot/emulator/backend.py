"""The emulator's shared core: directory, state, and Slack's single-use capabilities.

Trigger ids and response_urls are capabilities Slack hands to the app inside payloads; Slack
limits them (a trigger works once within 3 seconds, a response_url five times within 30
minutes), and apps break in production when they ignore that. The backend mints and redeems
both so the Web API methods, the response_url endpoint and the signer agree on one truth.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass

from bot.emulator.limits import RateLimiter
from bot.emulator.params import ApiError
from bot.emulator.state import State
from bot.emulator.workspace import Channel, User, Workspace

TRIGGER_TTL = 3.0
RESPONSE_URL_TTL = 30 * 60.0
RESPONSE_URL_USES = 5


@dataclass
class _Trigger:
    user: str
    expires_at: float
    used: bool = False


@dataclass
class ResponseTarget:
    """Where a response_url posts: the channel, the person, and the message it came from."""

    channel: str
    user: str
    message_ts: str | None = None
    ephemeral: bool = False
    uses: int = 0
    expires_at: float = 0.0


class Backend:
    """One workspace: its directory, state, capabilities and the app's bot token there."""

    def __init__(
        self,
        workspace: Workspace,
        clock: Callable[[], float],
        *,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.workspace = workspace
        self.state = State()
        self.clock = clock
        self.limiter = limiter
        """Slack's limits count per workspace: each workspace has its own."""
        self.bot_token = self.mint_bot_token()
        self.org_wide = False
        """Whether the app's install here is an Enterprise Grid org-wide install."""
        self.base_url = "http://127.0.0.1:0"
        self._lock = threading.Lock()
        self._triggers: dict[str, _Trigger] = {}
        self._response_urls: dict[str, ResponseTarget] = {}

    @staticmethod
    def mint_bot_token() -> str:
        """Random per workspace, so a test cannot accidentally talk to a real workspace."""
        return "xoxb-" + "-".join(
            (str(secrets.randbelow(10**12)), str(secrets.randbelow(10**12)), secrets.token_hex(12))
        )

    @property
    def bot(self) -> User:
        return self.workspace.bot_user

    # -- trigger ids ----------------------------------------------------------------------

    def mint_trigger(self, user: str) -> str:
        trigger = f"{secrets.randbelow(10**12)}.{secrets.randbelow(10**12)}.{secrets.token_hex(16)}"
        with self._lock:
            self._triggers[trigger] = _Trigger(user, self.clock() + TRIGGER_TTL)
        return trigger

    def redeem_trigger(self, trigger_id: str) -> str:
        """The user the trigger was minted for; Slack's errors when it cannot be used."""
        with self._lock:
            trigger = self._triggers.get(trigger_id)
            if trigger is None:
                raise ApiError("invalid_trigger_id")
            if trigger.used:
                raise ApiError("exchanged_trigger_id")
            if self.clock() > trigger.expires_at:
                raise ApiError("expired_trigger_id")
            trigger.used = True
            return trigger.user

    # -- response_url ---------------------------------------------------------------------

    def mint_response_url(self, target: ResponseTarget) -> str:
        token = secrets.token_urlsafe(18)
        target.expires_at = self.clock() + RESPONSE_URL_TTL
        with self._lock:
            self._response_urls[token] = target
        return f"{self.base_url}/hooks/{self.workspace.team.id}/{token}"

    def redeem_response_url(self, token: str) -> ResponseTarget:
        """Count one use; raises `used_url`/`expired_url` (sent as HTTP 404) once exhausted."""
        with self._lock:
            target = self._response_urls.get(token)
            if target is None:
                raise ApiError("invalid_url")
            if self.clock() > target.expires_at:
                raise ApiError("expired_url")
            if target.uses >= RESPONSE_URL_USES:
                raise ApiError("used_url")
            target.uses += 1
            return target

    # -- directory lookups that raise Slack's errors -------------------------------------

    def user(self, user_id: str) -> User:
        user = self.workspace.user(user_id) if user_id else None
        if user is None:
            raise ApiError("user_not_found")
        return user

    def conversation(self, channel_id: str) -> Channel | str:
        """A workspace channel, or the id of an open DM; `channel_not_found` otherwise."""
        channel = self.workspace.channel(channel_id) if channel_id else None
        if channel is not None:
            return channel
        if channel_id and self.state.dm_user(channel_id) is not None:
            return channel_id
        raise ApiError("channel_not_found")

    def members(self, conversation: Channel | str) -> tuple[str, ...]:
        if isinstance(conversation, Channel):
            return conversation.members
        user = self.state.dm_user(conversation)
        return (user, self.bot.id) if user else ()

    def postable_channel(self, channel_id: str) -> str:
        """Resolve chat.* `channel` (id, name or user id) to where the bot may post."""
        person = self.workspace.user(channel_id) if channel_id.startswith(("U", "W")) else None
        if person is not None and not person.is_bot:
            return self.state.open_dm(person.id)[0]
        conversation = self.conversation(channel_id)
        if self.bot.id not in self.members(conversation):
            raise ApiError("not_in_channel")
        return conversation.id if isinstance(conversation, Channel) else conversation
