"""The Bolt app factory: one App per process, built from settings and services."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qsl

from slack_bolt import Ack, App, BoltContext, BoltRequest, BoltResponse
from slack_bolt.request.internals import build_context
from slack_sdk import WebClient

from bot import scheduled_jobs
from bot.errors import PlatformError
from bot.identity import IdentityService
from bot.router import CommandRouter
from bot.router_views import error_text, unexpected_error_text
from bot.services import Services
from bot.slack_ids import BotEvent, SlashCommand
from commands import lookup, new_db, whoami
from surveys import csat, nps, office_hours

logger = logging.getLogger(__name__)


def reparse_misread_form(req: BoltRequest, next: Callable[[], BoltResponse]) -> BoltResponse:
    """Work around Bolt reading any form body that contains "payload" as interactivity.

    `/platform owner payload-svc` arrives as `text=owner+payload-svc`; Bolt's parse_body sees
    the substring and returns `{}`, and the request would be answered 404. A real
    interactivity body is exactly one `payload=` field, so anything else is re-read as a form.
    """
    if not req.body and req.raw_body and not req.raw_body.startswith(("{", "payload=")):
        fields = dict(parse_qsl(req.raw_body, keep_blank_values=True))
        if "payload" not in fields:
            req.body = fields
            req.context = build_context(req.context, req.body)
    return next()


class StickyAck(Ack):
    """An `ack` whose answer, once given, stays given.

    When a listener raises after acking, Bolt's thread runner sets `ack.response` back to
    None; if that lands before the request thread's next 10 ms poll, the answer the user was
    already given is lost and Slack shows a timeout. The error still reaches `handle_error`.
    """

    def __init__(self) -> None:
        self._answer: BoltResponse | None = None
        super().__init__()  # type: ignore[no-untyped-call]

    @property
    def response(self) -> BoltResponse | None:
        return self._answer

    @response.setter
    def response(self, value: BoltResponse | None) -> None:
        if value is not None or self._answer is None:
            self._answer = value


def keep_acks(context: BoltContext, next: Callable[[], BoltResponse]) -> BoltResponse:
    context["ack"] = StickyAck()
    return next()


def handle_error(error: Exception, body: dict[str, Any], respond: Any) -> None:
    """The one place unexpected listener errors become user messages (STYLE rule 5)."""
    if isinstance(error, PlatformError):
        text = error_text(error)
    else:
        reference = uuid.uuid4().hex[:8]
        logger.exception("Slack listener failed (reference %s)", reference, exc_info=error)
        text = unexpected_error_text(reference)
    if body.get("response_url") or body.get("response_urls"):
        try:
            respond(text=text, response_type="ephemeral", replace_original=False)
        except Exception:
            logger.exception("could not tell the user about an error")


def build_router(services: Services) -> CommandRouter:
    config = services.config
    return CommandRouter(
        identity=services.identity,
        policy=services.policy,
        idempotency=services.idempotency,
        usage=services.usage,
        platform_name=config.platform.name,
        docs_url=config.platform.docs_url,
    )


def register_features(app: App, router: CommandRouter, services: Services) -> None:
    """The feature table: every feature package, and the services and values it gets."""
    whoami.register(router, policy=services.policy, actions=router.actions)
    if services.lookup is not None:
        lookup.register(
            app,
            router,
            service=services.lookup,
            policy=services.policy,
            identity=services.identity,
            jobs=services.jobs,
        )
    if services.new_db is not None:
        new_db.register(app, router, feature=services.new_db, identity=services.identity)
    scheduled_jobs.register(router, scheduler=services.scheduler)
    if services.surveys is not None:
        surveys = services.surveys
        nps.register(app, router, service=surveys.nps, csat=surveys.csat, policy=services.policy)
        csat.register(app, service=surveys.csat)
        office_hours.register(app, router, service=surveys.office_hours)


def build_app(
    services: Services, *, token_verification: bool = True, listener_threads: int = 32
) -> App:
    """The Bolt App with every feature registered.

    `token_verification` calls auth.test at construction, so a wrong token or API URL
    stops startup with Slack's own error instead of failing on the first request.
    """
    settings = services.settings
    signing_secret = settings.slack_signing_secret
    app = App(
        client=services.slack,
        signing_secret=signing_secret.get_secret_value() if signing_secret else None,
        token_verification_enabled=token_verification,
        before_authorize=reparse_misread_form,
        logger=logging.getLogger("slack_bolt"),
        # Bolt's default pool has 5 threads: the sixth concurrent command would wait for one.
        listener_executor=ThreadPoolExecutor(
            max_workers=listener_threads, thread_name_prefix="listener"
        ),
    )
    app.use(keep_acks)
    app.error(handle_error)
    router = build_router(services)
    # Bolt tries listeners in registration order and builds arguments for each matcher:
    # the slash command, the busiest entry point, goes first.
    app.command(SlashCommand.PLATFORM)(router.handle_platform_command)
    register_features(app, router, services)
    app.event(BotEvent.APP_HOME_OPENED)(HomeTab(router, services.identity).handle_home_opened)
    return app


class HomeTab:
    """The App Home tab: the same help the caller would get from `/platform help`."""

    def __init__(self, router: CommandRouter, identity: IdentityService) -> None:
        self._router = router
        self._identity = identity

    def handle_home_opened(self, event: dict[str, Any], client: WebClient) -> None:
        if event.get("tab") != "home":
            return
        principal = self._identity.principal(event["user"])
        client.views_publish(
            user_id=principal.user_id,
            view={"type": "home", "blocks": self._router.help_blocks(principal)},
        )
