"""`Shell`: talk to the bot from a terminal as any workspace member, or script it from stdin.

After each command the shell waits for the app to go quiet (handlers keep calling the Web
API after they ack) and prints only what changed and is visible to the current person:
messages in the current channel and their DM with the bot, their ephemerals, their modal.
Scripted runs print no prompt and no colour, so transcripts can be compared in tests.
"""

from __future__ import annotations

import contextlib
import shlex
from collections.abc import Callable
from typing import Any, TextIO

from bot.emulator.emulator import Emulator
from bot.emulator.payloads import option_for
from bot.emulator.render import ANSI, PLAIN, Control, Numbering, render_message, render_modal
from bot.emulator.signer import SlackSigner, SubmissionBlocked
from bot.emulator.state import Activity, View

HELP = """\
/command text      run a slash command as the current user in the current channel
:as USER           act as another user (handle or id)
:in #channel       move to another channel
:users, :channels  list the workspace's people and channels
:click N|ACTION_ID press the Nth button shown last (or the one with that action_id)
:select N OPTION   pick OPTION (value, text or number) in the Nth select shown last
:modal             show the open modal with its inputs numbered
:fill N|BLOCK_ID V enter V into an input of the open modal (comma-separate multiple)
:submit, :close    submit or close the open modal
:dm                show your DM with the bot
:history           recent messages in this channel
:help, :quit       this help; leave (EOF works too)"""
HISTORY = 20
VIEW_EVENTS = {"view_opened", "view_pushed", "view_updated", "view_errors", "view_closed"}


class Shell:
    def __init__(
        self,
        emulator: Emulator,
        signer: SlackSigner,
        *,
        user: str = "alice",
        channel: str = "general",
        stdin: TextIO,
        stdout: TextIO,
        interactive: bool,
    ) -> None:
        self.emulator = emulator
        self.signer = signer
        self.workspace = emulator.workspace
        self.user = self._find_user(user)
        self.channel = self._find_channel(channel)
        self.stdin, self.stdout, self.interactive = stdin, stdout, interactive
        self.style = ANSI if interactive else PLAIN
        self.controls: list[Control] = []
        self.target: tuple[str, str, str] | None = (
            None  # ("message", channel, ts) / ("view", id, "")
        )
        self.cursor = emulator.cursor
        self.commands: dict[str, Callable[[list[str]], None]] = {
            ":help": lambda _: self.say(HELP),
            ":as": self.cmd_as,
            ":in": self.cmd_in,
            ":users": self.cmd_users,
            ":channels": self.cmd_channels,
            ":click": self.cmd_click,
            ":select": self.cmd_select,
            ":modal": lambda _: self.show_modal(),
            ":fill": self.cmd_fill,
            ":submit": self.cmd_submit,
            ":close": self.cmd_close,
            ":dm": self.cmd_dm,
            ":history": self.cmd_history,
        }

    # -- loop -----------------------------------------------------------------------------

    def run(self) -> int:
        if self.interactive:
            self._enable_readline()
            self.say(f"Slack emulator: you are {self.user_name} in #{self.channel_name}. :help")
        while True:
            line = self._read()
            if line is None:
                return 0
            line = line.strip()
            if line in (":quit", ":q", ":exit"):
                return 0
            if line:
                self.handle(line)

    def _read(self) -> str | None:
        prompt = f"{self.user_name} in #{self.channel_name}> "
        if self.interactive:
            try:
                return input(prompt)
            except EOFError:
                return None
        line = self.stdin.readline()
        return line if line else None

    @staticmethod
    def _enable_readline() -> None:
        with contextlib.suppress(ImportError):
            import readline  # noqa: F401  (line editing and history for input())

    def handle(self, line: str) -> None:
        """Run one line, then print what became visible to the current user."""
        try:
            if line.startswith("/"):
                command, _, text = line.partition(" ")
                self.signer.slash_command(self.user, text, self.channel, command=command)
            else:
                name, *args = shlex.split(line)
                action = self.commands.get(name)
                if action is None:
                    self.say(f"unknown command {name}; :help lists commands")
                    return
                action(args)
        except (LookupError, ValueError, SubmissionBlocked) as exc:
            self.say(f"! {exc}")
        self.show_new()

    def say(self, text: str) -> None:
        print(text, file=self.stdout, flush=True)

    # -- what is new ----------------------------------------------------------------------

    def show_new(self) -> None:
        self.emulator.wait_idle(idle=0.15, timeout=10.0)
        events = self.emulator.activity_since(self.cursor)
        self.cursor += len(events)
        shown: set[tuple[str | None, str | None]] = set()
        view_changed = False
        for event in events:
            if event.kind in VIEW_EVENTS and event.user == self.user:
                view_changed = True
            elif event.kind == "app_error" and event.user in (None, self.user):
                self.say(f"! the app failed: {event.detail}")
            elif (event.channel, event.ts) not in shown and self._show_event(event):
                shown.add((event.channel, event.ts))
        if view_changed:
            stack = self.emulator.state.modal_stack(self.user)
            if stack:
                self.show_modal()
            else:
                self.say("(modal closed)")

    def _show_event(self, event: Activity) -> bool:
        if event.kind in ("ephemeral", "ephemeral_changed") and event.user == self.user:
            ephemeral = next(
                (e for e in self.emulator.state.ephemerals(self.user) if e.ts == event.ts), None
            )
            if ephemeral is None:
                return False
            author = self.workspace.app.name if ephemeral.bot_id else "Slackbot"
            self._print_message(
                author,
                ephemeral.text,
                ephemeral.blocks,
                ephemeral.channel,
                ephemeral.ts,
                ephemeral=True,
                reply=bool(ephemeral.thread_ts),
            )
            return True
        visible = (self.channel, self.emulator.state.dm_channel(self.user))
        if event.channel is None or event.channel not in visible or event.ts is None:
            return False
        if event.kind == "message_deleted":
            self.say(f"(a message in {self._place(event.channel)} was deleted)")
            return True
        if event.kind not in ("message", "reply", "message_changed"):
            return False
        message = self.emulator.state.find(event.channel, event.ts)
        if message is None:
            return False
        author = self._name(message.user)
        if message.channel != self.channel:
            author += f" in {self._place(message.channel)}"
        self._print_message(
            author,
            message.text,
            message.blocks,
            message.channel,
            message.ts,
            edited=message.edited is not None,
            files=message.files,
            reply=message.thread_ts is not None,
        )
        return True

    def _print_message(
        self, author: str, text: str, blocks: list[Any], channel: str, ts: str, **flags: Any
    ) -> None:
        numbering = Numbering()
        for line in render_message(
            author, text, blocks, self.workspace, numbering, style=self.style, **flags
        ):
            self.say(line)
        if numbering.controls:
            self.controls, self.target = numbering.controls, ("message", channel, ts)

    def show_modal(self) -> None:
        view = self._top_view()
        numbering = Numbering()
        for line in render_modal(view, self.workspace, numbering, self.style):
            self.say(line)
        self.controls, self.target = numbering.controls, ("view", view.id, "")

    # -- meta-commands --------------------------------------------------------------------

    def cmd_as(self, args: list[str]) -> None:
        self.user = self._find_user(_one(args, "USER"))
        self.say(f"you are now {self.user_name}")

    def cmd_in(self, args: list[str]) -> None:
        self.channel = self._find_channel(_one(args, "#channel"))
        self.say(f"you are now in #{self.channel_name}")

    def cmd_users(self, _: list[str]) -> None:
        for user in self.workspace.users:
            flags = [
                f
                for f, on in (
                    ("bot", user.is_bot),
                    ("guest", user.is_restricted),
                    ("deactivated", user.deleted),
                )
                if on
            ]
            extra = f" ({', '.join(flags)})" if flags else ""
            self.say(f"{user.id}  @{user.name}  {user.real_name}{extra}")

    def cmd_channels(self, _: list[str]) -> None:
        for channel in self.workspace.channels:
            here = " (you are a member)" if self.user in channel.members else ""
            self.say(f"{channel.id}  #{channel.name}{here}")

    def cmd_click(self, args: list[str]) -> None:
        control = self._control(_one(args, "N or ACTION_ID"))
        if control.type != "button":
            raise ValueError(f"{control.number} is a {control.type}; use :select or :fill")
        self._act(control, None)

    def cmd_select(self, args: list[str]) -> None:
        if len(args) < 2:
            raise ValueError("usage: :select N OPTION")
        control = self._control(args[0])
        choice = " ".join(args[1:])
        if control.in_input:
            self._fill(control, choice)
        else:
            self._act(control, choice)

    def cmd_fill(self, args: list[str]) -> None:
        if len(args) < 2:
            raise ValueError("usage: :fill N|BLOCK_ID VALUE")
        self.show_modal_controls()
        wanted = args[0]
        control = next((c for c in self.controls if wanted in (c.block_id, str(c.number))), None)
        if control is None or not control.in_input:
            raise LookupError(f"no input {wanted} in the open modal")
        self._fill(control, " ".join(args[1:]))

    def cmd_submit(self, _: list[str]) -> None:
        view = self._top_view()
        try:
            self.signer.view_submission(self.user, view.id)
        except SubmissionBlocked:
            self.say("! some required fields are empty")

    def cmd_close(self, _: list[str]) -> None:
        self.signer.view_closed(self.user, self._top_view().id)

    def cmd_dm(self, _: list[str]) -> None:
        channel = self.emulator.state.dm_channel(self.user)
        messages = self.emulator.state.messages(channel) if channel else []
        if not messages:
            self.say("(no messages from the bot yet)")
        self._print_thread_order(messages[-HISTORY:])

    def cmd_history(self, _: list[str]) -> None:
        messages = self.emulator.state.messages(self.channel)
        if not messages:
            self.say(f"(#{self.channel_name} is empty)")
        self._print_thread_order(messages[-HISTORY:])

    def _print_thread_order(self, messages: list[Any]) -> None:
        parents = [m for m in messages if m.thread_ts is None]
        for parent in parents:
            for message in [parent, *(m for m in messages if m.thread_ts == parent.ts)]:
                self._print_message(
                    self._name(message.user),
                    message.text,
                    message.blocks,
                    message.channel,
                    message.ts,
                    edited=message.edited is not None,
                    files=message.files,
                    reply=message is not parent,
                )
        self.cursor = self.emulator.cursor

    # -- helpers --------------------------------------------------------------------------

    def show_modal_controls(self) -> None:
        """Number the open modal's inputs without printing, so :fill works before :modal."""
        view = self._top_view()
        numbering = Numbering()
        render_modal(view, self.workspace, numbering)
        self.controls, self.target = numbering.controls, ("view", view.id, "")

    def _control(self, wanted: str) -> Control:
        for control in self.controls:
            if wanted in (str(control.number), control.action_id):
                return control
        raise LookupError(f"nothing numbered {wanted} on the last message or modal")

    def _act(self, control: Control, choice: str | None) -> None:
        assert self.target is not None
        kind, ref, ts = self.target
        location: dict[str, Any] = {"view_id": ref} if kind == "view" else {"message": (ref, ts)}
        self.signer.block_action(
            self.user,
            action_id=control.action_id,
            block_id=control.block_id,
            selected_option=choice,
            **location,
        )

    def _fill(self, control: Control, text: str) -> None:
        view = self._top_view()
        block = next(b for b in view.spec["blocks"] if b.get("block_id") == control.block_id)
        element = block["element"]
        value: Any = text
        if control.choices:
            picked = [option_for(element, part.strip()) for part in text.split(",")]
            single = control.type in ("static_select", "radio_buttons", "external_select")
            value = picked[0] if single else picked
        elif control.type.startswith("multi_"):
            value = [part.strip() for part in text.split(",")]
        self.emulator.state.set_view_value(view.id, control.block_id, control.action_id, value)
        self.say(f"  {control.label} = {text}")

    def _top_view(self) -> View:
        stack = self.emulator.state.modal_stack(self.user)
        if not stack:
            raise LookupError("no modal is open")
        return stack[-1]

    def _find_user(self, key: str) -> str:
        user = self.workspace.user(key)
        if user is None:
            raise LookupError(f"no user {key}")
        return user.id

    def _find_channel(self, key: str) -> str:
        channel = self.workspace.channel(key)
        if channel is None:
            raise LookupError(f"no channel {key}")
        return channel.id

    def _name(self, user_id: str) -> str:
        user = self.workspace.user(user_id)
        return user.name if user else user_id

    def _place(self, channel_id: str) -> str:
        channel = self.workspace.channel(channel_id)
        return f"#{channel.name}" if channel else "your DM"

    @property
    def user_name(self) -> str:
        return self._name(self.user)

    @property
    def channel_name(self) -> str:
        return self._place(self.channel).lstrip("#")


def _one(args: list[str], what: str) -> str:
    if len(args) != 1:
        raise ValueError(f"expected {what}")
    return args[0]
