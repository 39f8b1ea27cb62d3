"""In-memory stand-ins for every protocol in `protocols.py`, for tests and local runs.

Fakes behave like the real adapters at the protocol boundary (None for unknown users,
`ProviderUnavailable` when told the provider is down) and record the calls made to them.
`FakeProvisioner` lives in `fake_provisioner` and is re-exported here.
"""

from __future__ import annotations

import secrets
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime

from integrations.errors import (
    ProviderNotFound,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
)
from integrations.fake_provisioner import FakeProvisioner as FakeProvisioner
from integrations.oncall_window import within
from integrations.protocols import (
    CatalogEntity,
    CatalogProblem,
    CatalogSnapshot,
    DirectoryUser,
    OnCallPerson,
    OnCallShift,
    OnCallStatus,
    OnCallTarget,
    PageRequest,
    PageResult,
    PostedMessage,
)
from integrations.provisioning_protocols import WrappedSecret


class FakeUserDirectory:
    """A workspace directory held in memory.

    `available = False` makes every call raise `ProviderUnavailable`, to exercise the
    code paths that keep working while Slack is down; `calls` counts calls per method.
    """

    def __init__(
        self,
        users: Iterable[DirectoryUser] = (),
        usergroups: dict[str, list[str]] | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._users = {user.id: user for user in users}
        self._usergroups = {handle: list(ids) for handle, ids in (usergroups or {}).items()}
        self.available = True
        self.calls: Counter[str] = Counter()

    def add(self, user: DirectoryUser) -> None:
        with self._lock:
            self._users[user.id] = user

    def set_usergroup(self, handle: str, user_ids: Iterable[str]) -> None:
        with self._lock:
            self._usergroups[handle] = list(user_ids)

    def user(self, user_id: str) -> DirectoryUser | None:
        self._enter("user")
        with self._lock:
            return self._users.get(user_id)

    def user_by_email(self, email: str) -> DirectoryUser | None:
        self._enter("user_by_email")
        wanted = email.casefold()
        with self._lock:
            for user in self._users.values():
                if user.email is not None and user.email.casefold() == wanted:
                    return user
        return None

    def usergroup_members(self, handle: str) -> list[str]:
        self._enter("usergroup_members")
        with self._lock:
            return list(self._usergroups.get(handle, []))

    def _enter(self, method: str) -> None:
        with self._lock:
            self.calls[method] += 1
        if not self.available:
            raise ProviderUnavailable("fake-directory", f"{method} failed: directory is down")


class FakeCatalog:
    """A catalog held in memory; `available = False` makes `fetch_all` fail like an outage."""

    name = "fake-catalog"

    def __init__(
        self, entities: Iterable[CatalogEntity] = (), problems: Iterable[CatalogProblem] = ()
    ) -> None:
        self.entities = list(entities)
        self.problems = list(problems)
        self.available = True
        self.calls = 0

    def fetch_all(self) -> CatalogSnapshot:
        self.calls += 1
        if not self.available:
            raise ProviderUnavailable(self.name, "fetch failed: catalog is down")
        return CatalogSnapshot(entities=tuple(self.entities), problems=tuple(self.problems))


class FakeOnCall:
    """An on-call tool held in memory.

    `statuses` maps (kind, id) to who is on call; `shifts` lists shifts by person (their
    email, lower case); `available = False` makes every call raise `ProviderUnavailable`;
    `pages` records each page once per dedup key, like the real tools' incident keys and
    aliases.
    """

    name = "fake-oncall"

    def __init__(self, statuses: dict[tuple[str, str], OnCallStatus] | None = None) -> None:
        self._lock = threading.Lock()
        self.statuses = dict(statuses or {})
        self.available = True
        self.calls: Counter[str] = Counter()
        self.pages: dict[str, PageRequest] = {}
        self.notify: tuple[OnCallPerson, ...] = ()
        self.shifts: dict[str, list[OnCallShift]] = {}

    def on_call(self, target: OnCallTarget, *, at: datetime) -> OnCallStatus:
        self._enter("on_call")
        status = self.statuses.get((target.kind, target.id))
        if status is None:
            raise ProviderNotFound(self.name, f"no {target.kind} {target.id!r}")
        return OnCallStatus(
            target=target,
            current=status.current,
            next=status.next,
            as_of=at,
            schedule_name=status.schedule_name,
        )

    def shifts_for(
        self,
        *,
        email: str | None,
        slack_user_id: str | None,
        since: datetime,
        until: datetime,
    ) -> list[OnCallShift]:
        self._enter("shifts_for")
        with self._lock:
            known = list(self.shifts.get((email or "").casefold(), ()))
        return within(known, since, until)

    def page(self, request: PageRequest) -> PageResult:
        self._enter("page")
        with self._lock:
            self.pages.setdefault(request.dedup_key, request)
        return PageResult(reference=f"FAKE-{request.dedup_key[-8:]}", notify=self.notify)

    def _enter(self, method: str) -> None:
        with self._lock:
            self.calls[method] += 1
        if not self.available:
            raise ProviderUnavailable(self.name, f"{method} failed: on-call tool is down")


class FakeMessenger:
    """Conversations held in memory: `messages[channel]` lists (ts, text, blocks, thread_ts).

    `rate_limit_next(n, retry_after)` refuses the next n posts with `ProviderRateLimited`.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.messages: dict[str, list[dict[str, object]]] = {}
        self.uploads: list[dict[str, object]] = []
        self.homes: dict[str, dict[str, object]] = {}
        self.calls: Counter[str] = Counter()
        self._refusals: list[float] = []
        self._seq = 0

    def rate_limit_next(self, times: int, retry_after: float = 1.0) -> None:
        with self._lock:
            self._refusals.extend([retry_after] * times)

    def post(
        self,
        channel: str,
        *,
        text: str,
        blocks: list[dict[str, object]] | None = None,
        thread_ts: str | None = None,
    ) -> PostedMessage:
        with self._lock:
            self.calls["post"] += 1
            if self._refusals:
                retry_after = self._refusals.pop(0)
                raise ProviderRateLimited("fake-slack", "rate limited", retry_after=retry_after)
            self._seq += 1
            ts = f"1700000000.{self._seq:06d}"
            conversation = f"D{channel[1:]}" if channel.startswith("U") else channel
            self.messages.setdefault(conversation, []).append(
                {"ts": ts, "text": text, "blocks": blocks or [], "thread_ts": thread_ts}
            )
            return PostedMessage(channel=conversation, ts=ts)

    def update(
        self, channel: str, ts: str, *, text: str, blocks: list[dict[str, object]] | None = None
    ) -> None:
        with self._lock:
            self.calls["update"] += 1
            for message in self.messages.get(channel, []):
                if message["ts"] == ts:
                    message.update(text=text, blocks=blocks or [])
                    return
        raise ProviderNotFound("fake-slack", "message_not_found")

    def open_dm(self, user_id: str) -> str:
        with self._lock:
            self.calls["open_dm"] += 1
        return f"D{user_id[1:]}"

    def upload(
        self, channel: str, *, filename: str, content: bytes, title: str, comment: str
    ) -> None:
        with self._lock:
            self.calls["upload"] += 1
            self.uploads.append(
                {"channel": channel, "filename": filename, "content": content, "title": title}
            )

    def publish_home(self, user_id: str, view: dict[str, object]) -> None:
        with self._lock:
            self.calls["publish_home"] += 1
            self.homes[user_id] = view


class FakeRoster:
    """A workspace listing: users plus channel and usergroup memberships."""

    def __init__(
        self,
        users: Iterable[DirectoryUser] = (),
        channels: dict[str, list[str]] | None = None,
        usergroups: dict[str, list[str]] | None = None,
    ) -> None:
        self.users = list(users)
        self.channels = dict(channels or {})
        self.usergroups = dict(usergroups or {})

    def all_users(self) -> list[DirectoryUser]:
        return list(self.users)

    def channel_members(self, channel_id: str) -> list[str]:
        return list(self.channels.get(channel_id, []))

    def usergroup_members(self, handle: str) -> list[str]:
        return list(self.usergroups.get(handle, []))


class FakeCharts:
    """Returns a fixed PNG signature plus the values, so tests can see what was drawn."""

    def line_chart(
        self,
        *,
        title: str,
        labels: list[str],
        values: list[float],
        y_label: str,
        y_range: tuple[float, float],
    ) -> bytes:
        return b"\x89PNG\r\n\x1a\n" + repr((title, labels, values)).encode()

    def stacked_bar_chart(
        self,
        *,
        title: str,
        labels: list[str],
        series: list[tuple[str, list[float]]],
        x_label: str,
    ) -> bytes:
        return b"\x89PNG\r\n\x1a\n" + repr((title, labels, series)).encode()


class FakeSecretStore:
    """A KV v2 store with response wrapping, in memory.

    `unwrap(token)` is what the user's `vault unwrap` does: it returns the data once and
    raises `ProviderRejected` after that, like Vault. `available = False` makes every call
    raise `ProviderUnavailable`.
    """

    def __init__(self, address_for_users: str = "https://vault.example.com") -> None:
        self.address_for_users = address_for_users
        self.versions: dict[str, list[dict[str, str]]] = {}
        self.available = True
        self.calls: Counter[str] = Counter()
        self._wrapped: dict[str, dict[str, str]] = {}
        self._lock = threading.Lock()

    def write(self, path: str, data: Mapping[str, str]) -> int:
        self._enter("write")
        with self._lock:
            history = self.versions.setdefault(path, [])
            history.append(dict(data))
            return len(history)

    def wrap(self, path: str, *, ttl_seconds: int) -> WrappedSecret:
        self._enter("wrap")
        with self._lock:
            history = self.versions.get(path)
            if not history:
                raise ProviderNotFound("fake-vault", "wrap failed: no secret at that path")
            token = f"s.{secrets.token_urlsafe(18)}"
            self._wrapped[token] = dict(history[-1])
        return WrappedSecret(
            token=token,
            ttl_seconds=ttl_seconds,
            unwrap_command=f"VAULT_ADDR={self.address_for_users} vault unwrap TOKEN",
        )

    def unwrap(self, token: str) -> dict[str, str]:
        with self._lock:
            data = self._wrapped.pop(token, None)
        if data is None:
            raise ProviderRejected("fake-vault", "wrapping token is not valid or does not exist")
        return data

    def delete(self, path: str) -> None:
        self._enter("delete")
        with self._lock:
            self.versions.pop(path, None)

    def check(self) -> None:
        self._enter("check")

    def _enter(self, method: str) -> None:
        with self._lock:
            self.calls[method] += 1
        if not self.available:
            raise ProviderUnavailable("fake-vault", f"{method} failed: Vault is down")
