"""The `/platform` router: one slash command, many subcommands.

Features register `Subcommand`s; the router parses the text, answers `help` and typos,
checks the policy, makes mutating subcommands idempotent (a Slack retry or a replayed
request never runs an action twice, and is told what the first run answered), runs the
handler, shows errors through the error presenter and records every use for the adoption
figures — in that order, acking within milliseconds.
"""

from __future__ import annotations

import difflib
import logging
import shlex
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.core import router_views
from bot.core.error_presenter import Origin, Presentation, Surface, present, reference_for
from bot.core.errors import InvalidInput, NotAllowed, PlatformError
from bot.core.idempotency import IdempotencyStore
from bot.core.identity import IdentityService, Principal
from bot.core.metrics import COMMANDS
from bot.core.policy import Policy
from bot.core.usage import UsageLog

logger = logging.getLogger(__name__)

HELP = "help"
# What metrics and adoption figures record instead of a word that names no subcommand, and
# for text that could not be read: never the typed text (a typo may be a pasted secret, and
# every distinct label value is a new metric series).
UNKNOWN = "unknown"
UNREADABLE = "(parse)"
_RESERVED = (HELP, UNKNOWN)
_VISIBLE_CACHE_SIZE = 10_000
_SMART_DOUBLE = "\u201c\u201d"
_ZERO_WIDTH_SPACE = "\u200b"


@dataclass(frozen=True)
class Subcommand:
    """One `/platform NAME …` entry: what help shows and what runs."""

    name: str
    summary: str
    usage: str
    example: str
    action: str
    handler: Callable[[CommandContext], None]
    mutating: bool = False
    aliases: tuple[str, ...] = ()


@dataclass
class CommandContext:
    """What a subcommand handler gets: the parsed request, the caller and Bolt's utilities."""

    subcommand: str
    args: list[str]
    arg_text: str
    user_id: str
    channel_id: str
    team_id: str | None
    trigger_id: str
    principal: Principal
    client: WebClient
    respond: Respond
    idempotency_key: str
    _ack: Ack
    acked: bool = field(default=False)
    answer: str | None = field(default=None)
    """The last text shown to the caller; a retry of a mutating request is told it again."""
    claimed: bool = field(default=False)
    """This request claimed its idempotency key (a mutating subcommand ran)."""

    def ack(self, text: str | None = None, *, blocks: list[Any] | None = None) -> None:
        """Answer Slack's request (once); a text or blocks answer is shown only to the caller."""
        if self.acked:
            raise RuntimeError("this request has already been acknowledged")
        self.acked = True
        if text is None and blocks is None:
            self._ack()
        else:
            self._ack(text=text or "", blocks=blocks, response_type="ephemeral")
            self.answer = text or self.answer

    def reply(self, text: str, *, blocks: list[Any] | None = None) -> None:
        """Show the caller a message: in the ack if still possible, else via response_url."""
        if not self.acked:
            self.ack(text, blocks=blocks)
        else:
            self.respond(text=text, blocks=blocks, response_type="ephemeral")
            self.answer = text or self.answer


def parse_text(text: str) -> tuple[str, list[str], str]:
    """Split `/platform` text into (subcommand, args, the raw text after the subcommand).

    Unicode spaces separate like spaces and smart quotes quote like ASCII ones (see
    `_plain_separators`); the raw text keeps its quotes as typed, with plain spaces.
    """
    spaced = "".join(" " if _is_space(char) else char for char in text)
    plain = _plain_separators(spaced)
    start = len(plain) - len(plain.lstrip(" "))
    end = len(plain.rstrip(" "))
    if start >= end:
        return "", [], ""
    head, _, rest = plain[start:end].partition(" ")
    try:
        args = shlex.split(rest)
    except ValueError as exc:
        raise InvalidInput(f"Could not read the arguments: {exc}.") from None
    rest_start = end - len(rest.lstrip(" "))
    return spaced[start : start + len(head)].lower(), args, spaced[rest_start:end]


def _is_space(char: str) -> bool:
    return char.isspace() or char == _ZERO_WIDTH_SPACE


def _plain_separators(text: str) -> str:
    """`text` with smart quotes made ASCII, character for character (positions do not move).

    Curly double quotes (U+201C, U+201D) become ", a left single quote (U+2018) becomes ',
    and a right single quote (U+2019) becomes ' only where it closes a single quote: iOS and
    macOS type it for every apostrophe ("don\u2019t"), which must stay a letter. Quote state
    is followed as shlex follows it: nothing is special inside '...', and a backslash
    escapes the next character outside quotes and inside "...".
    """
    plain: list[str] = []
    quote = ""
    escaped = False
    for char in text:
        if char in _SMART_DOUBLE or (char == "\u2018" and quote != '"'):
            char = '"' if char in _SMART_DOUBLE else "'"
        elif char == "\u2019" and quote == "'":
            char = "'"
        plain.append(char)
        if escaped:
            escaped = False
        elif char == "\\" and quote != "'":
            escaped = True
        elif quote and char == quote:
            quote = ""
        elif not quote and char in "'\"":
            quote = char
    return "".join(plain)


class CommandRouter:
    def __init__(
        self,
        *,
        identity: IdentityService,
        policy: Policy,
        idempotency: IdempotencyStore,
        usage: UsageLog,
        platform_name: str,
        docs_url: str | None = None,
    ) -> None:
        self._identity = identity
        self._policy = policy
        self._idempotency = idempotency
        self._usage = usage
        self._platform_name = platform_name
        self._docs_url = docs_url
        self._subcommands: dict[str, Subcommand] = {}
        self._names: dict[str, str] = {}
        # Help depends only on which subcommands the caller sees: build each variant once.
        self._help_cache: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        self._visible_cache: dict[Principal, list[Subcommand]] = {}

    def add(self, subcommand: Subcommand) -> None:
        for name in (subcommand.name, *subcommand.aliases):
            if name in _RESERVED:
                raise ValueError(f"/platform {name} is reserved")
            if name in self._names:
                raise ValueError(f"/platform {name} is registered twice")
            self._names[name] = subcommand.name
        self._subcommands[subcommand.name] = subcommand
        self._help_cache.clear()
        self._visible_cache.clear()
        if not subcommand.mutating:
            # Guests and bots may run what changes nothing, if a rule allows it broadly.
            self._policy.declare_read_only([subcommand.action])

    @property
    def subcommands(self) -> Mapping[str, Subcommand]:
        return dict(self._subcommands)

    def commands_for(self, principal: Principal) -> list[Subcommand]:
        """The subcommands `principal` may run: what their help lists."""
        return list(self._visible(principal))

    def handle_platform_command(
        self, ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        """The Bolt listener for `/platform`."""
        started = time.perf_counter()
        name: str | None = None
        outcome = "error"
        principal: Principal | None = None
        context: CommandContext | None = None
        try:
            name, args, arg_text = parse_text(str(body.get("text", "")))
            principal = self._identity.principal(body["user_id"])
            context = CommandContext(
                subcommand=name,
                args=args,
                arg_text=arg_text,
                user_id=body["user_id"],
                channel_id=str(body.get("channel_id", "")),
                team_id=body.get("team_id"),
                trigger_id=str(body.get("trigger_id", "")),
                principal=principal,
                client=client,
                respond=respond,
                idempotency_key=f"command:{body.get('trigger_id') or uuid.uuid4().hex}",
                _ack=ack,
            )
            outcome = self._dispatch(context)
        except Exception as error:
            outcome = "rejected" if isinstance(error, PlatformError) else "error"
            reference = reference_for(error, where=f"/platform {self._known(name)}")
            origin = Origin(Surface.COMMAND, acked=context is not None and context.acked)
            _show(present(error, origin, reference=reference), context, ack, respond)
        finally:
            if context is not None and not context.acked:
                context.ack()
            if context is not None:
                self._remember_answer(context)
            COMMANDS.labels(subcommand=self._known(name), outcome=outcome).inc()
            if principal is not None:
                self._record_usage(principal, self._known(name), outcome, started)

    def _known(self, name: str | None) -> str:
        """The name to count a use under: a registered name, help, unknown or unreadable."""
        if name is None:
            return UNREADABLE
        if name in ("", HELP):
            return HELP
        return self._names.get(name, UNKNOWN)

    def _dispatch(self, context: CommandContext) -> str:
        name = context.subcommand
        if name in ("", HELP):
            topic = context.args[0].lower() if context.args else None
            context.ack(**self._help(context.principal, topic))
            return "ok"
        canonical = self._names.get(name)
        if canonical is None:
            context.ack(**self._unknown(context.principal, name))
            return "unknown"
        subcommand = self._subcommands[canonical]
        context.subcommand = canonical
        decision = self._policy.can(context.principal, subcommand.action)
        if not decision.allowed:
            raise NotAllowed(decision.reason)
        if subcommand.mutating and not self._idempotency.claim(
            context.idempotency_key, scope=f"/platform {canonical}"
        ):
            remembered = self._idempotency.result(context.idempotency_key) or {}
            context.ack(str(remembered.get("message") or router_views.ALREADY_RUNNING))
            return "duplicate"
        context.claimed = subcommand.mutating
        subcommand.handler(context)
        return "ok"

    def _remember_answer(self, context: CommandContext) -> None:
        """Keep what the first run told the caller, for Slack's retries of the same request."""
        if not context.claimed or not context.answer:
            return
        try:
            self._idempotency.remember(context.idempotency_key, {"message": context.answer})
        except Exception:
            # A retry then answers "already being handled", which is still true.
            logger.exception("could not remember the answer to /platform %s", context.subcommand)

    def _visible(self, principal: Principal) -> list[Subcommand]:
        # Principals are immutable and the policy is fixed once wired, so the answer per
        # principal is cached (a refreshed profile is a new Principal, hence a new entry).
        visible = self._visible_cache.get(principal)
        if visible is None:
            allowed = self._policy.allowed_actions(
                principal, [s.action for s in self._subcommands.values()]
            )
            visible = [s for s in self._subcommands.values() if s.action in allowed]
            if len(self._visible_cache) >= _VISIBLE_CACHE_SIZE:
                self._visible_cache.clear()
            self._visible_cache[principal] = visible
        return visible

    def _help(self, principal: Principal, topic: str | None) -> dict[str, Any]:
        if topic == HELP:
            visible = self._visible(principal)
            blocks = router_views.build_help_for_help(visible[0].name if visible else HELP)
        elif topic is not None:
            canonical = self._names.get(topic)
            match = next((s for s in self._visible(principal) if s.name == canonical), None)
            if match is None:
                return self._unknown(principal, topic)
            blocks = router_views.build_subcommand_help(match)
        else:
            blocks = self.help_blocks(principal)
        return {"text": f"{self._platform_name}: /platform help", "blocks": blocks}

    def help_blocks(self, principal: Principal) -> list[dict[str, Any]]:
        """The help card for `principal` (also the App Home tab); treat it as read-only."""
        visible = self._visible(principal)
        key = tuple(s.name for s in visible)
        blocks = self._help_cache.get(key)
        if blocks is None:
            blocks = router_views.build_help(
                visible, platform_name=self._platform_name, docs_url=self._docs_url
            )
            self._help_cache[key] = blocks
        return blocks

    def _unknown(self, principal: Principal, name: str) -> dict[str, Any]:
        candidates = [HELP]
        for subcommand in self._visible(principal):
            candidates += [subcommand.name, *subcommand.aliases]
        close = difflib.get_close_matches(name, candidates, n=3, cutoff=0.6)
        suggestions = list(dict.fromkeys(self._names.get(c, c) for c in close))
        text = router_views.unknown_subcommand_text(name, suggestions)
        return {"text": text, "blocks": router_views.build_text(text)}

    def _record_usage(self, principal: Principal, name: str, outcome: str, started: float) -> None:
        try:
            self._usage.record(
                user_id=principal.user_id,
                team=min(principal.teams) if principal.teams else None,
                subcommand=name,
                outcome=outcome,
                duration_ms=int((time.perf_counter() - started) * 1000),
            )
        except Exception:
            # Adoption figures must never break a command that already answered.
            logger.exception("could not record usage of /platform %s", name)


def _show(shown: Presentation, context: CommandContext | None, ack: Ack, respond: Respond) -> None:
    if shown.ack is not None:
        if context is not None:
            context.ack(shown.text)
        else:
            ack(**shown.ack)
    if shown.reply is not None:
        respond(**shown.reply)
        if context is not None:
            context.answer = shown.text
