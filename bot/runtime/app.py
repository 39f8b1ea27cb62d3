"""The Bolt app factory: one App per process, built from settings and services."""

from __future__ import annotations

import inspect
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar, cast
from urllib.parse import parse_qsl

from slack_bolt import Ack, App, Args, BoltContext, BoltRequest, BoltResponse, Respond
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.authorize import InstallationStoreAuthorize
from slack_bolt.request.internals import build_context
from slack_sdk import WebClient
from slack_sdk.oauth.installation_store import InstallationStore

from bot.core.error_presenter import (
    OpenView,
    Origin,
    PushView,
    UpdateView,
    present,
    reference_for,
)
from bot.core.feature import Listener
from bot.core.slack_ids import SlashCommand
from bot.runtime.services import Services

logger = logging.getLogger(__name__)

T = TypeVar("T")
ACK_WAIT_SECONDS = 3.0
"""As long as Bolt itself waits for a listener's ack (Slack's limit)."""


def reparse_misread_form(req: BoltRequest, next: Callable[[], BoltResponse]) -> BoltResponse:
    reread_misread_form(req)
    return next()


def reread_misread_form(req: BoltRequest) -> None:
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


class StickyAck(Ack):
    """An `ack` whose answer, once given, stays given, and says when it was given.

    When a listener raises after acking, Bolt's thread runner sets `ack.response` back to
    None; if that lands before the request thread's next 10 ms poll, the answer the user was
    already given is lost and Slack shows a timeout. The error still reaches `handle_error`.
    `given` is set with the first answer (see `AckWaitingExecutor`).
    """

    def __init__(self) -> None:
        self._answer: BoltResponse | None = None
        self.given = threading.Event()
        super().__init__()  # type: ignore[no-untyped-call]

    @property
    def response(self) -> BoltResponse | None:
        return self._answer

    @response.setter
    def response(self, value: BoltResponse | None) -> None:
        if value is not None or self._answer is None:
            self._answer = value
        if self._answer is not None:
            self.given.set()


# The ack of the request the current request thread is dispatching.
_dispatching = threading.local()


def keep_acks(context: BoltContext, next: Callable[[], BoltResponse]) -> BoltResponse:
    ack = StickyAck()
    context["ack"] = ack
    # Read by `AckWaitingExecutor.submit`, which Bolt calls from this thread after the
    # middleware, to start the listener.
    _dispatching.ack = ack
    return next()


class AckWaitingExecutor(ThreadPoolExecutor):
    """The listeners' pool, which returns from `submit` once the listener has acked.

    Bolt's thread runner submits the listener here and then polls its ack every 10 ms, so
    every answer waited up to 10 ms (5 on average) after it was ready. Waiting here on the
    ack itself, the request thread finds the answer given at its first look and returns it
    at once. A listener that finishes without acking ends the wait too; Bolt then reports
    the missing ack as before.
    """

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future = super().submit(fn, *args, **kwargs)
        ack: StickyAck | None = getattr(_dispatching, "ack", None)
        if ack is not None:
            future.add_done_callback(lambda _: ack.given.set())
            ack.given.wait(ACK_WAIT_SECONDS)
        return future


def handle_error(
    error: Exception,
    body: dict[str, Any],
    respond: Respond | None,
    client: WebClient,
    response: BoltResponse | None,
) -> BoltResponse | None:
    """The one place listener errors become what the person sees (`bot.core.error_presenter`).

    Bolt passes `response` only while the request is unanswered (and for events, acked
    before their listener runs, which no person is looking at); the answer returned here then
    replaces its 500 (a modal's field errors, a command's ephemeral, or an empty 200).
    """
    origin = Origin.of(body, acked=response is None)
    reference = reference_for(error, where=f"Slack {origin.surface} listener")
    shown = present(error, origin, reference=reference)
    try:
        if shown.reply is not None and respond is not None:
            respond(**shown.reply)
        if isinstance(shown.view, UpdateView):
            client.views_update(
                view_id=shown.view.view_id, hash=shown.view.hash, view=shown.view.view
            )
        elif isinstance(shown.view, PushView):
            client.views_push(trigger_id=shown.view.trigger_id, view=shown.view.view)
        elif isinstance(shown.view, OpenView):
            client.views_open(trigger_id=shown.view.trigger_id, view=shown.view.view)
    except Exception:
        logger.exception("could not tell the person about an error (reference %s)", reference)
    if response is None:
        return None
    return BoltResponse(status=200, body=shown.ack or "")


def build_app(
    services: Services,
    *,
    token_verification: bool = True,
    listener_threads: int = 32,
    installation_store: InstallationStore | None = None,
) -> App:
    """The Bolt App with every feature registered.

    `token_verification` calls auth.test at construction, so a wrong token or API URL
    stops startup with Slack's own error instead of failing on the first request.
    With `installation_store` (one workspace of a multi-workspace bot) Bolt's authorize
    finds the bot token of the workspace each request comes from, and a request from a
    workspace whose install was removed is refused. What auth.test says of a token is kept
    for the app's life (one call, not one per request): the store decides whether the token
    is still installed.
    """
    settings = services.settings
    signing_secret = settings.slack_signing_secret
    client = services.slack if installation_store is None else _tokenless(services.slack)
    bolt_logger = logging.getLogger("slack_bolt")
    app = App(
        client=client,
        authorize=None
        if installation_store is None
        else _caching_authorize(installation_store, client, bolt_logger),
        installation_store=installation_store,
        installation_store_bot_only=True if installation_store is not None else None,
        signing_secret=signing_secret.get_secret_value() if signing_secret else None,
        token_verification_enabled=token_verification and installation_store is None,
        before_authorize=reparse_misread_form,
        logger=bolt_logger,
        # Bolt's default pool has 5 threads: the sixth concurrent command would wait for one.
        listener_executor=AckWaitingExecutor(
            max_workers=listener_threads, thread_name_prefix="listener"
        ),
    )
    app.use(keep_acks)
    app.error(handle_error)
    router = services.router
    # Bolt tries listeners in registration order and builds arguments for each matcher:
    # the slash command, the busiest entry point, goes first.
    app.command(SlashCommand.PLATFORM)(router.handle_platform_command)
    for listener in services.listeners:
        register_listener(app, listener)
    return app


def _caching_authorize(
    store: InstallationStore, client: WebClient, bolt_logger: logging.Logger
) -> Callable[..., AuthorizeResult]:
    authorize = InstallationStoreAuthorize(
        installation_store=store,
        logger=bolt_logger,
        bot_only=True,
        cache_enabled=True,
        client=client,
    )
    # App takes any Authorize here (it checks isinstance); its annotation names only callables
    # that always find a result, and this one answers None for a workspace not installed.
    return cast(Callable[..., AuthorizeResult], authorize)


def _tokenless(client: WebClient) -> WebClient:
    """`client` without its token: Bolt copies it for each request with the token its
    authorize found, and a token here would only make Bolt warn that it is ignored."""
    return WebClient(
        base_url=client.base_url,
        timeout=client.timeout,
        retry_handlers=client.retry_handlers,
        logger=client.logger,
    )


def register_listener(app: App, listener: Listener) -> None:
    """One feature listener on Bolt's matching method (`app.action`, `app.view`, …)."""
    register: Callable[..., Callable[[Callable[..., Any]], Any]] = getattr(app, listener.kind)
    register(listener.matcher)(errors_after_ack_shown_here(listener.handler))


def errors_after_ack_shown_here(handler: Callable[..., Any]) -> Callable[[Args], None]:
    """`handler`, with an error it raises after acking shown by `handle_error` right here.

    Raised to Bolt, such an error races the request thread: Bolt's thread runner sets the
    request's answer to a 500 and back to nothing while the request thread, already woken by
    the ack, reads it; a request read in between is answered 500 or 404 "unhandled request"
    although the person's answer was given (two Reveal clicks at once showed it). An error
    before the ack still goes to Bolt, whose error handler turns it into the answer.
    """
    wanted = list(inspect.signature(handler).parameters)

    def run(args: Args) -> None:
        try:
            handler(**{name: getattr(args, name) for name in wanted})
        except Exception as error:
            if args.ack.response is None:
                raise
            handle_error(error, args.body, args.respond, args.client, None)

    # Bolt names the listener in its log lines; `functools.wraps` would also make Bolt read
    # the handler's parameters instead of `args`.
    run.__name__ = run.__qualname__ = getattr(handler, "__name__", "listener")
    return run
