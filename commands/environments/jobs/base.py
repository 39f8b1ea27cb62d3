"""What the environment jobs share: the progress thread, sealing the hand-off, failures.

A driver's `ProviderUnavailable` is retried by the job runner (another attempt resumes from
the rows' checkpoints); a refusal (`ProviderRejected`) is permanent at once. Messages come
from adapters that keep secrets out of them, and are scrubbed once more before anyone sees
them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from bot.core.errors import Unavailable
from bot.core.jobs import PermanentJobError
from bot.core.redaction import scrub_text
from commands.environments.drivers.base import Applied, EnvShape, Progress, ResourceFailed
from commands.environments.models import Environment
from commands.environments.service import records
from commands.environments.service.records import EnvContext
from commands.environments.service.templates import score_outputs
from commands.environments.service.types import EnvInfo
from commands.resources.config import Driver
from commands.resources.credentials import CredentialBox
from integrations.errors import IntegrationError, ProviderUnavailable
from integrations.provisioning_protocols import WrappedSecret
from integrations.score import ScoreError, resolve_variables

logger = logging.getLogger(__name__)
MESSAGE_LIMIT = 480


def safe_error(error: IntegrationError) -> str:
    return scrub_text(error.message)[:MESSAGE_LIMIT]


@contextmanager
def permanent_unless_transient() -> Iterator[None]:
    """Driver errors as the job runner needs them: retry what may pass, stop on the rest.

    Both as `PlatformError`s: the runner shows only those messages (which resource, which
    step) to the requester; any other error becomes "unexpected …"."""
    try:
        yield
    except ResourceFailed as exc:
        if exc.transient:
            raise Unavailable(safe_error(exc)) from exc
        raise PermanentJobError(safe_error(exc)) from exc
    except ProviderUnavailable as exc:
        raise Unavailable(safe_error(exc)) from exc
    except IntegrationError as exc:
        raise PermanentJobError(safe_error(exc)) from exc


class EnvJob:
    def __init__(self, ctx: EnvContext, box: CredentialBox) -> None:
        self._ctx = ctx
        self._box = box

    def _progress(self, env_id: str, opening: str) -> Progress:
        """Lines into the thread of the requester's DM for this operation (posted once)."""
        ctx = self._ctx
        with ctx.sessions.begin() as session:
            env = records.load(session, env_id)
            thread = (env.progress_channel, env.progress_ts)
            found = records.info(ctx, session, env)
        if thread[0] is None or thread[1] is None:
            posted = ctx.notifier.start_thread(found, opening)
            if posted is None:
                return lambda _text: None
            with ctx.sessions.begin() as session:
                env = records.load(session, env_id)
                env.progress_channel, env.progress_ts = posted
            thread = posted
        root = (str(thread[0]), str(thread[1]))
        return lambda text: ctx.notifier.reply(root, text)

    def _hand_over(
        self, env: Environment, shape: EnvShape, applied: Applied
    ) -> WrappedSecret | None:
        """Seal the hand-off on the row for its Reveal; or, with a secrets manager, write it
        there and return a one-time wrapped token for the requester (nothing sealed)."""
        values = self._handed_over(env, shape, applied)
        if not values:  # nothing secret came out (an orchestrator keeps its own): no Reveal
            env.sealed = None
            return None
        path = self._ctx.vault_path(env)
        vault = self._ctx.databases.vault
        if path is None or vault is None or self._ctx.secrets is None:
            env.sealed = self._box.seal_mapping(values)
            return None
        store = self._ctx.secrets
        store.write(path, values)
        env.sealed = None
        return store.wrap(path, ttl_seconds=vault.wrap_ttl_seconds)

    def _deliver(self, env: EnvInfo, wrapped: WrappedSecret | None) -> None:
        self._ctx.notifier.ready(env)
        if wrapped is not None:
            self._ctx.notifier.deliver_wrapped(env, wrapped, self._ctx.vault_path(env) or "")

    def _handed_over(self, env: Environment, shape: EnvShape, applied: Applied) -> dict[str, str]:
        """The secrets, plus a Score workload's variables resolved against them."""
        values = dict(applied.secrets)
        template = self._ctx.templates.get(env.template)
        # Only the `local` driver resolves Score placeholders itself; an orchestrator that
        # deploys the workload (Humanitec) resolves them where it runs it.
        local = template is not None and template.config.driver is Driver.LOCAL
        workload = template.workload if template is not None and local else None
        if workload is not None:
            outputs = score_outputs(shape.resources, applied.secrets, applied.outputs)
            try:
                for container in resolve_variables(workload, outputs):
                    for name, value in container.variables.items():
                        values[f"{container.name}: {name}"] = value
            except ScoreError as exc:
                values["Score variables"] = f"not resolved: {exc}"
        return values
