"""The interfaces services see; each adapter implements one and has a fake in `fakes.py`.

Services type their collaborators with these protocols, so the adapter that talks to the
real provider is built in exactly one place and everything else can run on a fake.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class DirectoryUser:
    """A workspace member as the directory knows them."""

    id: str
    name: str
    real_name: str
    email: str | None = None
    tz: str | None = None
    is_bot: bool = False
    is_restricted: bool = False
    """A guest (single- or multi-channel); guests get no mutating actions by default."""
    deleted: bool = False


class UserDirectory(Protocol):
    """Who is who in the workspace: users by id or email, and usergroup membership.

    Lookups return None for a user the directory does not know; failures to reach the
    directory raise `ProviderUnavailable`, refusals `ProviderRejected`.
    """

    def user(self, user_id: str) -> DirectoryUser | None: ...

    def user_by_email(self, email: str) -> DirectoryUser | None: ...

    def usergroup_members(self, handle: str) -> list[str]:
        """User ids in the usergroup with this handle; empty for an unknown handle."""
        ...
