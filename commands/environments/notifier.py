"""`Notifier` over the Messenger port: threads of progress, DMs, approval cards.

Every call swallows (and logs) Slack errors: a message that cannot be posted must not undo
or repeat the work it reports on. No method receives a secret.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

from bot.core.audit import SYSTEM_ACTOR
from commands.environments.service.types import EnvInfo
from commands.environments.views import messages
from integrations.errors import IntegrationError
from integrations.protocols import Messenger
from integrations.provisioning_protocols import WrappedSecret

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Audience:
    """Whose dashboards a message about an environment makes out of date."""

    changed: Callable[[Collection[str]], None]
    """`Core.dashboard.changed`."""
    approvers: Callable[[EnvInfo], Collection[str]]
    """The people the policy names to approve it: the ones a pending request waits on."""

    def env(self, env: EnvInfo, *, approvers: bool = False) -> None:
        people = {env.requested_by, *env.approvers}
        if approvers:
            people.update(self.approvers(env))
        self.changed(people - {SYSTEM_ACTOR})

    def person(self, user_id: str) -> None:
        self.changed({user_id} - {SYSTEM_ACTOR})


def _nobody(_people: Collection[str]) -> None:
    return None


NOBODY = Audience(changed=_nobody, approvers=lambda _env: ())


class SlackNotifier:
    def __init__(self, messenger: Messenger, audience: Audience = NOBODY) -> None:
        self._messenger = messenger
        self._audience = audience

    def _post(
        self, channel: str, text: str, blocks: list[Any] | None = None, thread: str | None = None
    ) -> tuple[str, str] | None:
        try:
            posted = self._messenger.post(channel, text=text, blocks=blocks, thread_ts=thread)
        except IntegrationError as exc:
            logger.warning("environments: could not post to %s: %s", channel, exc)
            return None
        return posted.channel, posted.ts

    def start_thread(self, env: EnvInfo, text: str) -> tuple[str, str] | None:
        self._audience.env(env)
        return self._post(env.requested_by, text)

    def reply(self, thread: tuple[str, str], text: str) -> None:
        self._post(thread[0], text, thread=thread[1])

    def tell(self, user_id: str, text: str) -> None:
        # Told of an approval, a failure or a removal: what their dashboard lists changed.
        self._audience.person(user_id)
        self._post(user_id, text)

    def ready(self, env: EnvInfo) -> None:
        self._audience.env(env)
        self._post(env.requested_by, messages.card_text(env), messages.build_card(env))

    def deliver_wrapped(self, env: EnvInfo, wrapped: WrappedSecret, path: str) -> None:
        text = messages.wrapped_text(env, wrapped, path)
        self._post(env.requested_by, text)

    def ask_approval(self, env: EnvInfo, channel: str, approvers: str) -> tuple[str, str] | None:
        self._audience.env(env, approvers=True)
        text = f"Approve environment {env.name}?"
        return self._post(channel, text, messages.build_approval(env, approvers))

    def update_approval(self, env: EnvInfo) -> None:
        self._audience.env(env, approvers=True)
        where = env.approval_message
        if where is None:
            return
        try:
            self._messenger.update(
                where[0],
                where[1],
                text=f"Environment {env.name}",
                blocks=messages.build_decided_approval(env),
            )
        except IntegrationError as exc:
            logger.warning("environments: could not update an approval card: %s", exc)

    def warn_expiry(self, env: EnvInfo, hours_left: float) -> None:
        self._audience.env(env)
        self._post(
            env.requested_by,
            f"Environment {env.name} expires soon",
            messages.build_warning(env, hours_left),
        )

    def receipt(self, env: EnvInfo, removed: Sequence[str], lived_hours: float) -> None:
        self._audience.env(env)
        text = messages.receipt_text(env, removed, lived_hours)
        self._post(env.requested_by, text)
