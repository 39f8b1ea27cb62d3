"""Block Kit as terminal text: pure functions from messages and views to lines.

The shell prints what these return, and people pick buttons and inputs by the numbers shown,
so every interactive element gets a number in display order and a `Control` describing it.
Output is plain and deterministic unless a `Style` with ANSI codes is passed (interactive use).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.emulator.payloads import current_raw, options
from bot.emulator.state import JSON, View
from bot.emulator.workspace import Workspace

RULE = "-" * 40
COLUMN = 38


@dataclass(frozen=True)
class Style:
    bold: Callable[[str], str] = lambda s: s
    dim: Callable[[str], str] = lambda s: s


PLAIN = Style()
ANSI = Style(bold=lambda s: f"\x1b[1m{s}\x1b[0m", dim=lambda s: f"\x1b[2m{s}\x1b[0m")


@dataclass(frozen=True)
class Control:
    """A numbered interactive element: what `:click`, `:select` and `:fill` act on."""

    number: int
    block_id: str
    action_id: str
    type: str
    label: str
    in_input: bool = False
    choices: tuple[tuple[str, str], ...] = ()


@dataclass
class Numbering:
    controls: list[Control] = field(default_factory=list)

    def add(self, block: JSON, element: JSON, label: str, *, in_input: bool = False) -> int:
        choices = tuple(
            (str(o.get("value", "")), plain_text(o.get("text"))) for o in options(element)
        )
        number = len(self.controls) + 1
        self.controls.append(
            Control(
                number,
                str(block.get("block_id", "")),
                str(element.get("action_id", "")),
                str(element.get("type")),
                label,
                in_input,
                choices,
            )
        )
        return number


def plain_text(obj: Any) -> str:
    if isinstance(obj, dict):
        return str(obj.get("text", ""))
    return "" if obj is None else str(obj)


def mrkdwn(text: str, workspace: Workspace, style: Style = PLAIN) -> str:
    """Slack's mrkdwn reduced to readable text: links, mentions and emphasis resolved."""

    def link(match: re.Match[str]) -> str:
        target, _, label = match.group(1).partition("|")
        if target.startswith("@"):
            user = workspace.user(target[1:])
            return "@" + (user.name if user else label or target[1:])
        if target.startswith("#"):
            channel = workspace.channel(target[1:])
            return "#" + (channel.name if channel else label or target[1:])
        if target.startswith("!subteam^"):
            group = workspace.usergroup(target.removeprefix("!subteam^"))
            return "@" + (group.handle if group else label or target)
        if target.startswith("!"):
            return "@" + (label or target[1:])
        return f"{label} ({target})" if label and label != target else target

    text = re.sub(r"<([^<>]+)>", link, text)
    text = re.sub(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])", lambda m: style.bold(m.group(1)), text)
    text = re.sub(r"(?<![\w_])_([^_\n]+)_(?![\w_])", r"\1", text)
    text = re.sub(r"(?<![\w~])~([^~\n]+)~(?![\w~])", r"\1", text)
    return html.unescape(text)


def _text(obj: Any, workspace: Workspace, style: Style) -> str:
    if isinstance(obj, dict) and obj.get("type") == "mrkdwn":
        return mrkdwn(str(obj.get("text", "")), workspace, style)
    return plain_text(obj)


def _element(block: JSON, element: JSON, numbering: Numbering) -> str:
    kind = str(element.get("type"))
    if kind == "image":
        return f"[image: {element.get('alt_text', '')}]"
    if kind == "button":
        label = plain_text(element.get("text"))
        return f"[{numbering.add(block, element, label)} {label}]"
    label = plain_text(element.get("placeholder")) or kind.replace("_", " ")
    number = numbering.add(block, element, label)
    choices = " | ".join(plain_text(o.get("text")) for o in options(element))
    return f"[{number} {label}: {choices}]" if choices else f"[{number} {label}]"


_ESCAPES = re.compile(r"\x1b\[[0-9;]*m")


def _columns(items: list[str]) -> list[str]:
    """Fields two to a row, as Slack lays them out; a multi-line field keeps its column."""
    lines: list[str] = []
    for i in range(0, len(items), 2):
        left = items[i].splitlines() or [""]
        right = items[i + 1].splitlines() if i + 1 < len(items) else []
        for row in range(max(len(left), len(right))):
            cell = left[row] if row < len(left) else ""
            other = right[row] if row < len(right) else ""
            # Pad by the visible width: bold and dim add escape codes in a terminal.
            padding = " " * max(0, COLUMN - len(_ESCAPES.sub("", cell)))
            lines.append((cell + padding + other).rstrip() if other else cell)
    return lines


def render_blocks(
    blocks: list[JSON], workspace: Workspace, numbering: Numbering, style: Style = PLAIN
) -> list[str]:
    """Message or Home tab blocks (input blocks go through `render_modal`)."""
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            lines.append(style.bold(plain_text(block.get("text")).upper()))
        elif kind == "section":
            if "text" in block:
                lines.extend(_text(block["text"], workspace, style).splitlines() or [""])
            fields = [_text(f, workspace, style) for f in block.get("fields", [])]
            lines.extend(_columns(fields))
            if isinstance(block.get("accessory"), dict):
                lines.append(_element(block, block["accessory"], numbering))
        elif kind == "context":
            parts = [
                f"[image: {e.get('alt_text', '')}]"
                if e.get("type") == "image"
                else _text(e, workspace, style)
                for e in block.get("elements", [])
            ]
            lines.append(style.dim("~ " + " | ".join(parts)))
        elif kind == "divider":
            lines.append(RULE)
        elif kind == "actions":
            lines.append(" ".join(_element(block, e, numbering) for e in block.get("elements", [])))
        elif kind == "image":
            lines.append(f"[image: {block.get('alt_text', '')}]")
        elif kind == "markdown":
            lines.extend(mrkdwn(str(block.get("text", "")), workspace, style).splitlines())
        elif kind == "rich_text":
            lines.append(_rich_text(block))
        elif kind == "input":
            lines.append(
                f"{plain_text(block.get('label'))}: {_element(block, block['element'], numbering)}"
            )
        else:
            lines.append(f"[{kind}]")
    return lines


def _rich_text(node: Any) -> str:
    if isinstance(node, dict):
        if "text" in node and isinstance(node["text"], str):
            return node["text"]
        return "".join(_rich_text(child) for child in node.get("elements", []))
    return ""


def render_message(
    author: str,
    text: str,
    blocks: list[JSON],
    workspace: Workspace,
    numbering: Numbering,
    *,
    ephemeral: bool = False,
    edited: bool = False,
    files: list[JSON] | None = None,
    reply: bool = False,
    style: Style = PLAIN,
) -> list[str]:
    """A message as a head line plus indented body; thread replies are indented once more."""
    flags = (" (edited)" if edited else "") + (" (only visible to you)" if ephemeral else "")
    body = render_blocks(blocks, workspace, numbering, style) if blocks else []
    if not body and text:
        body = mrkdwn(text, workspace, style).splitlines()
    body.extend(f"[file: {f.get('name')}]" for f in files or [])
    indent = "    | " if reply else "  "
    head = ("  > " if reply else "") + style.bold(author) + flags + ":"
    return [head, *(indent + line for line in body)]


def _shown_value(element: JSON, raw: Any, workspace: Workspace) -> str:
    if raw in (None, "", []):
        return "(empty)"
    items = raw if isinstance(raw, list) else [raw]
    shown = []
    for item in items:
        if isinstance(item, dict):
            shown.append(plain_text(item.get("text")))
        elif "user" in str(element.get("type")) and workspace.user(str(item)):
            user = workspace.user(str(item))
            shown.append("@" + (user.name if user else str(item)))
        else:
            match = [o for o in options(element) if o.get("value") == str(item)]
            shown.append(plain_text(match[0].get("text")) if match else str(item))
    return ", ".join(f'"{s}"' for s in shown)


def render_modal(
    view: View, workspace: Workspace, numbering: Numbering, style: Style = PLAIN
) -> list[str]:
    """A modal with numbered inputs, their current values, markers and any errors."""
    spec = view.spec
    title = plain_text(spec.get("title"))
    lines = [style.bold(f"== {title} ==")]
    for block in spec.get("blocks", []):
        if block.get("type") != "input":
            lines.extend(
                "  " + line for line in render_blocks([block], workspace, numbering, style)
            )
            continue
        element = block.get("element", {})
        label = plain_text(block.get("label"))
        number = numbering.add(block, element, label, in_input=True)
        marker = "optional" if block.get("optional") else "required"
        value = _shown_value(element, current_raw(view, block, element), workspace)
        lines.append(f"  ({number}) {label} [{marker}, {element.get('type')}]: {value}")
        choices = options(element)
        if choices:
            lines.append("      options: " + " | ".join(plain_text(o.get("text")) for o in choices))
        if "hint" in block:
            lines.append(style.dim("      hint: " + plain_text(block["hint"])))
        error = view.errors.get(str(block.get("block_id")))
        if error:
            lines.append(f"      ! {error}")
    buttons = [plain_text(spec.get(k)) for k in ("submit", "close") if spec.get(k)]
    if buttons:
        lines.append("  " + " ".join(f"<{b}>" for b in buttons) + "  (:submit / :close)")
    return lines
