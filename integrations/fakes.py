"""In-memory stand-ins for every protocol in `protocols.py`, for tests and local runs.

Fakes behave like the real adapters at the protocol boundary (None for unknown users,
`ProviderUnavailable` when told the provider is down) and record the calls made to them.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable

from integrations.errors import ProviderUnavailable
from integrations.protocols import DirectoryUser


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
