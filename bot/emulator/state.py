"""What the emulated workspace shows people: messages, ephemerals, DMs, modals and files.

Everything is guarded by one lock because the HTTP server answers the bot on many threads
while tests and the shell read concurrently. Every change is also appended to an activity log
with a sequence number, so a UI can ask "what happened since cursor N" and wait until the app
has gone quiet (a slash command's handler may keep calling the Web API after its ack).
Idle detection uses the real monotonic clock, never the emulator's injectable clock, so a test
that freezes time for trigger expiry cannot make `wait_idle` hang.
"""

from __future__ import annotations

import copy
import secrets
import string
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]
MAX_VIEW_STACK = 3


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    blocks: list[JSON]
    user: str
    bot_id: str | None = None
    thread_ts: str | None = None
    edited: JSON | None = None
    files: list[JSON] = field(default_factory=list)
    subtype: str | None = None


@dataclass
class Ephemeral:
    channel: str
    user: str
    ts: str
    text: str
    blocks: list[JSON]
    thread_ts: str | None = None
    bot_id: str | None = None


@dataclass
class View:
    """A modal in a user's stack, or their Home tab.

    `values` holds what the person typed or picked, keyed block_id → action_id; the signer turns
    it into Slack's typed `state.values` when it builds payloads.
    """

    id: str
    user: str
    spec: JSON
    hash: str
    root_view_id: str
    previous_view_id: str | None = None
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def type(self) -> str:
        return str(self.spec.get("type", "modal"))

    @property
    def external_id(self) -> str | None:
        value = self.spec.get("external_id")
        return str(value) if value else None


@dataclass(frozen=True)
class Activity:
    """One visible change; `user` is the only person who sees it when it is private."""

    seq: int
    kind: str
    channel: str | None = None
    user: str | None = None
    ts: str | None = None
    view_id: str | None = None
    detail: str = ""


def random_id(prefix: str, length: int = 10) -> str:
    alphabet = string.ascii_uppercase + string.digits
    return prefix + "".join(secrets.choice(alphabet) for _ in range(length))


class State:
    """Thread-safe store of the workspace's changing content plus the activity log."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._messages: dict[str, list[Message]] = {}
        self._ephemerals: list[Ephemeral] = []
        self._dms: dict[str, str] = {}
        self._stacks: dict[str, list[View]] = {}
        self._homes: dict[str, View] = {}
        self._files: dict[str, JSON] = {}
        self._log: list[Activity] = []
        # Every text, block list and view ever shown, so tests can check what people saw even
        # after a message was edited or a view replaced.
        self._shown: list[JSON] = []
        self._last_ts = 0.0
        self._inflight = 0
        self._last_activity = time.monotonic()

    # -- activity -------------------------------------------------------------------------

    def _show(self, kind: str, content: JSON) -> None:
        self._shown.append({"kind": kind, **copy.deepcopy(content)})

    def shown(self) -> list[JSON]:
        """Everything the workspace has displayed, in order: message and ephemeral texts and
        blocks (every edit included) and view specs, each tagged with its kind."""
        with self._lock:
            return copy.deepcopy(self._shown)

    def record(self, kind: str, **fields: Any) -> Activity:
        with self._lock:
            activity = Activity(seq=len(self._log) + 1, kind=kind, **fields)
            self._log.append(activity)
            self._touch()
            return activity

    def _touch(self) -> None:
        self._last_activity = time.monotonic()
        self._changed.notify_all()

    @property
    def cursor(self) -> int:
        with self._lock:
            return len(self._log)

    def since(self, cursor: int) -> list[Activity]:
        with self._lock:
            return list(self._log[cursor:])

    @contextmanager
    def busy(self) -> Iterator[None]:
        """Mark a request in flight: the workspace is not idle until it finishes."""
        with self._lock:
            self._inflight += 1
            self._touch()
        try:
            yield
        finally:
            with self._lock:
                self._inflight -= 1
                self._touch()

    def wait_for(self, predicate: Callable[[], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._lock:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(min(remaining, 0.05))
            return True

    def wait_idle(self, idle: float = 0.15, timeout: float = 10.0) -> bool:
        """Block until nothing was in flight or changed for `idle` seconds; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                now = time.monotonic()
                quiet_for = now - self._last_activity
                if self._inflight == 0 and quiet_for >= idle:
                    return True
                if now >= deadline:
                    return False
                wait = idle - quiet_for if self._inflight == 0 else idle
                self._changed.wait(max(0.005, min(wait, deadline - now)))

    # -- messages -------------------------------------------------------------------------

    def next_ts(self) -> str:
        """Slack-style "seconds.micros" timestamps, strictly increasing (they are message ids)."""
        with self._lock:
            now = max(time.time(), self._last_ts + 0.000001)
            self._last_ts = round(now, 6)
            return f"{self._last_ts:.6f}"

    def post(self, message: Message) -> Message:
        with self._lock:
            self._messages.setdefault(message.channel, []).append(message)
            self._show("message", {"text": message.text, "blocks": message.blocks})
            kind = "reply" if message.thread_ts else "message"
            self.record(kind, channel=message.channel, ts=message.ts, user=message.user)
            return message

    def find(self, channel: str, ts: str) -> Message | None:
        with self._lock:
            for message in self._messages.get(channel, []):
                if message.ts == ts:
                    return message
            return None

    def edit(self, channel: str, ts: str, *, text: str, blocks: list[JSON], editor: str) -> Message:
        with self._lock:
            message = self.find(channel, ts)
            if message is None:
                raise KeyError(ts)
            message.text, message.blocks = text, blocks
            self._show("message", {"text": text, "blocks": blocks})
            message.edited = {"user": editor, "ts": self.next_ts()}
            self.record("message_changed", channel=channel, ts=ts, user=message.user)
            return message

    def delete(self, channel: str, ts: str) -> None:
        with self._lock:
            kept = [m for m in self._messages.get(channel, []) if m.ts != ts]
            self._messages[channel] = kept
            self.record("message_deleted", channel=channel, ts=ts)

    def messages(self, channel: str) -> list[Message]:
        """Copies, oldest first, so readers never see a half-applied edit."""
        with self._lock:
            return copy.deepcopy(self._messages.get(channel, []))

    # -- ephemerals -----------------------------------------------------------------------

    def post_ephemeral(self, ephemeral: Ephemeral) -> Ephemeral:
        with self._lock:
            self._ephemerals.append(ephemeral)
            self._show("ephemeral", {"text": ephemeral.text, "blocks": ephemeral.blocks})
            self.record(
                "ephemeral", channel=ephemeral.channel, user=ephemeral.user, ts=ephemeral.ts
            )
            return ephemeral

    def find_ephemeral(self, user: str, ts: str) -> Ephemeral | None:
        with self._lock:
            return next((e for e in self._ephemerals if e.user == user and e.ts == ts), None)

    def replace_ephemeral(self, user: str, ts: str, *, text: str, blocks: list[JSON]) -> None:
        with self._lock:
            found = self.find_ephemeral(user, ts)
            if found is not None:
                found.text, found.blocks = text, blocks
                self._show("ephemeral", {"text": text, "blocks": blocks})
                self.record("ephemeral_changed", channel=found.channel, user=user, ts=ts)

    def delete_ephemeral(self, user: str, ts: str) -> None:
        with self._lock:
            self._ephemerals = [e for e in self._ephemerals if not (e.user == user and e.ts == ts)]
            self.record("ephemeral_deleted", user=user, ts=ts)

    def ephemerals(self, user: str, channel: str | None = None) -> list[Ephemeral]:
        with self._lock:
            return copy.deepcopy(
                [e for e in self._ephemerals if e.user == user and channel in (None, e.channel)]
            )

    # -- direct messages ------------------------------------------------------------------

    def open_dm(self, user: str) -> tuple[str, bool]:
        """The bot's DM channel with `user`, and whether it already existed."""
        with self._lock:
            if user in self._dms:
                return self._dms[user], True
            channel = "D" + user.removeprefix("U")
            self._dms[user] = channel
            self.record("dm_opened", channel=channel, user=user)
            return channel, False

    def dm_channel(self, user: str) -> str | None:
        with self._lock:
            return self._dms.get(user)

    def dm_user(self, channel: str) -> str | None:
        with self._lock:
            return next((u for u, c in self._dms.items() if c == channel), None)

    # -- views ----------------------------------------------------------------------------

    def new_view(
        self, user: str, spec: JSON, *, root: str | None = None, previous: str | None = None
    ) -> View:
        view_id = random_id("V")
        return View(
            id=view_id,
            user=user,
            spec=spec,
            hash=new_hash(),
            root_view_id=root or view_id,
            previous_view_id=previous,
        )

    def open_modal(self, user: str, spec: JSON) -> View:
        """A new modal replaces whatever stack the user had open, as in the Slack client."""
        with self._lock:
            view = self.new_view(user, spec)
            self._show("view", {"view": spec})
            self._stacks[user] = [view]
            self.record("view_opened", user=user, view_id=view.id)
            return view

    def push_modal(self, user: str, spec: JSON) -> View:
        with self._lock:
            stack = self._stacks.get(user, [])
            if not stack:
                raise KeyError(user)
            if len(stack) >= MAX_VIEW_STACK:
                raise OverflowError(user)
            view = self.new_view(user, spec, root=stack[0].id, previous=stack[-1].id)
            self._show("view", {"view": spec})
            stack.append(view)
            self.record("view_pushed", user=user, view_id=view.id)
            return view

    def publish_home(self, user: str, spec: JSON) -> View:
        with self._lock:
            current = self._homes.get(user)
            view = self.new_view(user, spec) if current is None else current
            view.spec, view.hash = spec, new_hash()
            self._show("view", {"view": spec})
            self._homes[user] = view
            self.record("home_published", user=user, view_id=view.id)
            return view

    def find_view(
        self, *, view_id: str | None = None, external_id: str | None = None
    ) -> View | None:
        with self._lock:
            for view in self._all_views():
                if (view_id and view.id == view_id) or (
                    external_id and view.external_id == external_id
                ):
                    return view
            return None

    def _all_views(self) -> Iterator[View]:
        for stack in self._stacks.values():
            yield from stack
        yield from self._homes.values()

    def replace_view(self, view: View, spec: JSON) -> View:
        """Swap a view's content in place; typed values survive for inputs that still exist."""
        with self._lock:
            view.spec, view.hash, view.errors = spec, new_hash(), {}
            self._show("view", {"view": spec})
            kept_blocks = {b.get("block_id") for b in spec.get("blocks", []) if b.get("block_id")}
            view.values = {k: v for k, v in view.values.items() if k in kept_blocks}
            self.record("view_updated", user=view.user, view_id=view.id)
            return view

    def close_view(self, view_id: str) -> View | None:
        """Close one modal view and every view pushed above it."""
        with self._lock:
            for user, stack in self._stacks.items():
                ids = [v.id for v in stack]
                if view_id in ids:
                    closed = stack[ids.index(view_id)]
                    del stack[ids.index(view_id) :]
                    self.record("view_closed", user=user, view_id=view_id)
                    return closed
            return None

    def clear_views(self, user: str) -> None:
        with self._lock:
            self._stacks[user] = []
            self.record("view_closed", user=user, detail="cleared")

    def modal_stack(self, user: str) -> list[View]:
        with self._lock:
            return copy.deepcopy(self._stacks.get(user, []))

    def home(self, user: str) -> View | None:
        with self._lock:
            view = self._homes.get(user)
            return copy.deepcopy(view) if view else None

    def set_view_value(self, view_id: str, block_id: str, action_id: str, value: Any) -> None:
        with self._lock:
            view = self.find_view(view_id=view_id)
            if view is None:
                raise KeyError(view_id)
            view.values.setdefault(block_id, {})[action_id] = value
            view.errors.pop(block_id, None)
            self.record("view_input", user=view.user, view_id=view_id)

    def set_view_errors(self, view_id: str, errors: dict[str, str]) -> None:
        with self._lock:
            view = self.find_view(view_id=view_id)
            if view is not None:
                view.errors = dict(errors)
                self.record("view_errors", user=view.user, view_id=view_id)

    # -- files ----------------------------------------------------------------------------

    def put_file(self, file: JSON) -> None:
        with self._lock:
            self._files[str(file["id"])] = file

    def file(self, file_id: str) -> JSON | None:
        with self._lock:
            return self._files.get(file_id)

    @property
    def files(self) -> list[JSON]:
        with self._lock:
            return copy.deepcopy(list(self._files.values()))


def new_hash() -> str:
    return f"{int(time.time())}.{secrets.token_hex(4)}"
