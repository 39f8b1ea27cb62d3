"""Block Kit for the lookups: owner, on-call, service card, search, menus and the page modals."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ValidationError
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.errors import InvalidInput
from commands.lookup.answers import (
    Ambiguous,
    Links,
    OnCall,
    OnCallResult,
    Ownership,
    PageOutcome,
    PagePreview,
    Person,
    SearchResult,
    ServiceCard,
    Shift,
    Team,
)
from commands.lookup.catalog_index import RefreshOutcome
from commands.lookup.ids import ActionId, BlockId, CallbackId

Blocks = list[dict[str, Any]]
_TEXT_LIMIT = 2900


def _md(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=text[:_TEXT_LIMIT])


def _dump(blocks: list[Block]) -> Blocks:
    return [block.to_dict() for block in blocks]


def _zone(tz: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(tz or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def when(moment: datetime, tz: str | None) -> str:
    """`Mon 30 Nov 09:00 EST`: a moment in the reader's time zone."""
    return moment.astimezone(_zone(tz)).strftime("%a %d %b %H:%M %Z")


def mention(person: Person) -> str:
    return f"<@{person.slack_user_id}>" if person.slack_user_id else person.name


def _team_text(team: Team | None, person: Person | None) -> str:
    if person is not None:
        return mention(person)
    if team is None:
        return "nobody (no owner in the catalog)"
    text = f"*{team.label}*"
    if team.channel:
        text += f" ({team.channel})"
    if not team.in_catalog:
        text += " _(not in the catalog)_"
    return text


def _members_text(team: Team | None) -> str | None:
    if team is None or not team.members:
        return None
    text = ", ".join(mention(p) for p in team.members)
    if team.more_members:
        text += f" and {team.more_members} more"
    return text


def _shift_text(shift: Shift, tz: str | None, *, upcoming: bool) -> str:
    text = mention(shift.person)
    if shift.level > 1:
        text += f" (level {shift.level})"
    if upcoming and shift.start is not None:
        text += f" from {when(shift.start, tz)}"
    if shift.end is not None:
        text += f" until {when(shift.end, tz)}"
    return text


def oncall_lines(oncall: OnCall | None, tz: str | None) -> tuple[str, str]:
    """(on call now, next) as short texts for a card or an answer."""
    if oncall is None:
        return "_asking the on-call tool…_", "_asking…_"
    if not oncall.configured:
        return f"no on-call schedule in {oncall.provider}", "—"
    now = "; ".join(_shift_text(s, tz, upcoming=False) for s in oncall.current) or "nobody"
    following = "; ".join(_shift_text(s, tz, upcoming=True) for s in oncall.next) or "unknown"
    return now, following


def _stale_note(oncall: OnCall | None, tz: str | None) -> str | None:
    if oncall is None or not oncall.stale:
        return None
    return (
        f":warning: {oncall.provider} is not answering ({oncall.problem}); this is the last "
        f"known on-call from {when(oncall.as_of, tz)} and may be out of date."
    )


def build_owner(answer: Ownership) -> tuple[str, Blocks]:
    entity = answer.entity
    owner = _team_text(answer.owner, answer.owner_person)
    text = f"*{entity.name}* ({entity.kind}) is owned by {owner}."
    members = _members_text(answer.owner)
    if members:
        text += f"\nMembers: {members}"
    plain = f"{entity.name} is owned by {answer.owner.label if answer.owner else 'nobody'}"
    return plain, _dump([SectionBlock(text=_md(text))])


def build_oncall(answer: OnCallResult, tz: str | None) -> tuple[str, Blocks]:
    entity = answer.entity
    now, following = oncall_lines(answer.oncall, tz)
    schedule = answer.oncall.schedule if answer.oncall and answer.oncall.schedule else None
    where = f" ({answer.oncall.provider} `{schedule}`)" if answer.oncall and schedule else ""
    text = f"*On call for {entity.name}*{where}\n*Now:* {now}\n*Next:* {following}"
    if answer.team is not None and answer.team.channel:
        text += f"\nTeam channel: {answer.team.channel}"
    blocks: list[Block] = [SectionBlock(text=_md(text))]
    note = _stale_note(answer.oncall, tz)
    if note:
        blocks.append(ContextBlock(elements=[_md(note)]))
    return f"On call for {entity.name}: {now}", _dump(blocks)


def _links_text(links: Links) -> str | None:
    parts = []
    for label, entries in (
        ("Repository", links.repository),
        ("Docs", links.docs),
        ("Runbooks", links.runbooks),
        ("Dashboards", links.dashboards),
        ("Links", links.other),
    ):
        if entries:
            shown = ", ".join(f"<{url}|{title[:60]}>" for title, url in entries[:4])
            parts.append(f"*{label}:* {shown}")
    return "\n".join(parts) or None


def build_service_card(card: ServiceCard, tz: str | None, *, can_page: bool) -> tuple[str, Blocks]:
    entity = card.entity
    now, following = oncall_lines(card.oncall, tz)
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=entity.label[:150])),
        SectionBlock(text=_md(entity.description or "_No description in the catalog._")),
        SectionBlock(
            fields=[
                _md(f"*Kind*\n{entity.kind}{' · ' + entity.type if entity.type else ''}"),
                _md(f"*Lifecycle*\n{entity.lifecycle or '—'}"),
                _md(f"*System*\n{card.system or '—'}"),
                _md(f"*Owner*\n{_team_text(card.owner, card.owner_person)}"),
                _md(f"*On call now*\n{now}"),
                _md(f"*Next on call*\n{following}"),
            ]
        ),
    ]
    members = _members_text(card.owner)
    if members:
        blocks.append(SectionBlock(text=_md(f"*Team members:* {members}")))
    links = _links_text(card.links)
    if links:
        blocks.append(SectionBlock(text=_md(links)))
    note = _stale_note(card.oncall, tz)
    context = note or f"`{entity.ref}`" + (
        f" · tags: {', '.join(entity.tags)}" if entity.tags else ""
    )
    blocks.append(ContextBlock(elements=[_md(context)]))
    buttons = []
    if can_page and card.oncall is not None and card.oncall.configured:
        buttons.append(
            ButtonElement(
                text="Page on-call",
                action_id=ActionId.PAGE_ONCALL,
                value=entity.ref,
                style="danger",
            )
        )
    if card.catalog_url:
        buttons.append(
            ButtonElement(
                text="Open in catalog", action_id=ActionId.OPEN_IN_CATALOG, url=card.catalog_url
            )
        )
    if buttons:
        blocks.append(ActionsBlock(block_id=BlockId.CARD_ACTIONS, elements=buttons))
    owner = card.owner.label if card.owner else "nobody"
    return f"{entity.label}: owned by {owner}; on call now: {now}", _dump(blocks)


def build_search(result: SearchResult) -> tuple[str, Blocks]:
    if not result.hits:
        text = f"Nothing in the catalog ({result.indexed:,} entries) matches `{result.query}`."
        return text, _dump([SectionBlock(text=_md(text))])
    lines = []
    for number, hit in enumerate(result.hits, start=1):
        entity = hit.entity
        owner = f", owner {hit.owner_label}" if hit.owner_label else ""
        line = f"{number}. *{entity.name}* ({entity.kind}{owner})"
        if entity.description:
            line += f": {entity.description[:120]}"
        lines.append(line)
    header = f"Top {len(result.hits)} for `{result.query}` in the catalog:"
    blocks: list[Block] = [SectionBlock(text=_md(header + "\n" + "\n".join(lines)))]
    blocks.append(
        ContextBlock(elements=[_md("`/platform service NAME` shows one of them in full.")])
    )
    return header, _dump(blocks)


def build_ambiguous(error: Ambiguous, command: str) -> tuple[str, Blocks]:
    options = [
        Option(text=f"{c.label} ({c.kind}, {c.namespace})"[:75], value=f"{command}|{c.ref}"[:150])
        for c in error.candidates[:100]
    ]
    section = SectionBlock(
        block_id=BlockId.PICK,
        text=_md(f"`{error.query}` matches {len(error.candidates)} entries. Which one?"),
        accessory=StaticSelectElement(
            action_id=ActionId.PICK_ENTITY, placeholder="Choose one", options=options
        ),
    )
    return error.message, _dump([section])


def parse_pick(value: str) -> tuple[str, str]:
    command, sep, ref = value.partition("|")
    if not sep or not ref:
        raise InvalidInput("That choice is no longer valid; run the command again.")
    return command, ref


def build_refresh_started() -> str:
    return "Refreshing the catalog index. I'll DM you the result."


def build_refresh_result(outcome: RefreshOutcome) -> tuple[str, Blocks]:
    text = (
        f"Catalog refreshed from {outcome.provider}: {outcome.entity_count:,} entities "
        f"in {outcome.seconds:.1f} s."
    )
    lines = [text]
    if outcome.problems:
        lines.append(f"{len(outcome.problems)} entries were skipped:")
        lines += [f"• `{p.source}`: {p.reason}" for p in outcome.problems[:15]]
        if len(outcome.problems) > 15:
            lines.append(f"… and {len(outcome.problems) - 15} more (see the bot's log).")
    return text, _dump([SectionBlock(text=_md("\n".join(lines)))])


class _PageMetadata(BaseModel):
    ref: str
    reason: str = ""


def build_page_reason_modal(entity_ref: str, entity_label: str) -> dict[str, Any]:
    view = View(
        type="modal",
        callback_id=CallbackId.PAGE_REASON,
        title="Page on-call",
        submit="Next",
        close="Cancel",
        private_metadata=_PageMetadata(ref=entity_ref).model_dump_json(),
        blocks=[
            SectionBlock(text=_md(f"Page whoever is on call for *{entity_label}*.")),
            InputBlock(
                block_id=BlockId.REASON,
                label="Why are you paging?",
                element=PlainTextInputElement(
                    action_id=ActionId.REASON, multiline=True, max_length=500
                ),
            ),
        ],
    )
    return view.to_dict()


def parse_page_metadata(private_metadata: str) -> tuple[str, str]:
    try:
        data = _PageMetadata.model_validate(json.loads(private_metadata or "{}"))
    except (ValueError, ValidationError):
        raise InvalidInput("This form is out of date; open the service card again.") from None
    return data.ref, data.reason


def parse_reason(state_values: dict[str, Any]) -> str:
    value = state_values.get(BlockId.REASON, {}).get(ActionId.REASON, {}).get("value")
    return str(value or "")


def build_page_confirm_modal(preview: PagePreview, reason: str, tz: str | None) -> dict[str, Any]:
    now, _ = oncall_lines(preview.oncall, tz)
    if preview.oncall is None:
        now = f"whoever {preview.provider} has on call"
    text = (
        f"Page *{now}* (on call for *{preview.entity.name}*, via {preview.provider})?\n"
        f"*Reason:* {reason}"
    )
    view = View(
        type="modal",
        callback_id=CallbackId.PAGE_CONFIRM,
        title="Confirm page",
        submit="Page now",
        close="Back",
        private_metadata=_PageMetadata(ref=preview.entity.ref, reason=reason).model_dump_json(),
        blocks=[SectionBlock(text=_md(text))],
    )
    return view.to_dict()


def build_notice_modal(title: str, text: str) -> dict[str, Any]:
    view = View(type="modal", title=title[:24], close="Done", blocks=[SectionBlock(text=_md(text))])
    return view.to_dict()


def build_paging_modal(entity_name: str) -> dict[str, Any]:
    return build_notice_modal("Paging", f"Paging the on-call for *{entity_name}*. I'll DM you.")


def build_page_result(outcome: PageOutcome) -> str:
    text = f"Paged the on-call for *{outcome.entity.name}* through {outcome.provider}"
    text += (
        f" (<{outcome.url}|{outcome.reference}>)." if outcome.url else f" ({outcome.reference})."
    )
    if outcome.notify_user_ids:
        text += " Messaged " + ", ".join(f"<@{u}>" for u in outcome.notify_user_ids) + "."
    if outcome.unreachable:
        text += " No Slack account found for: " + ", ".join(outcome.unreachable) + "."
    return text


def build_page_failed(entity_ref: str, message: str) -> str:
    return f"Paging the on-call for `{entity_ref}` failed: {message}"


def build_page_dm(entity_name: str, requester_id: str, reason: str) -> str:
    return (
        f":rotating_light: <@{requester_id}> is paging you as the on-call for "
        f"*{entity_name}*.\n*Reason:* {reason}"
    )
