"""What the lookup jobs tell people by DM: page results and failures, refresh failures.

Plain mrkdwn text, without Block Kit, so the jobs that post it stay free of Slack's SDK.
Catalog text and typed reasons are escaped here.
"""

from __future__ import annotations

from bot.core.mrkdwn import SECTION_TEXT_LIMIT, escape, escape_truncated, truncate
from commands.lookup.service.types import PageOutcome
from commands.lookup.views.markdown import link

REASON_SHOWN = 2_500


def build_page_result(outcome: PageOutcome) -> str:
    text = (
        f"Paged the on-call for *{escape(outcome.entity.name)}* through {escape(outcome.provider)}"
    )
    reference = outcome.reference[:200]
    text += f" ({link(outcome.url, reference) if outcome.url else escape(reference)})."
    if outcome.notify_user_ids:
        text += " Messaged " + ", ".join(f"<@{u}>" for u in outcome.notify_user_ids) + "."
    if outcome.unreachable:
        people = ", ".join(escape(name) for name in outcome.unreachable)
        text += f" No Slack account found for: {people}."
    return truncate(text, SECTION_TEXT_LIMIT)


def build_page_failed(entity_ref: str, message: str) -> str:
    return truncate(
        f"Paging the on-call for `{escape(entity_ref)}` failed: {escape(message)}",
        SECTION_TEXT_LIMIT,
    )


def build_page_dm(entity_name: str, requester_id: str, reason: str) -> str:
    return (
        f":rotating_light: <@{requester_id}> is paging you as the on-call for "
        f"*{escape(entity_name)}*.\n*Reason:* {escape_truncated(reason, REASON_SHOWN)}"
    )


def build_refresh_failed(message: str) -> str:
    return f"The catalog refresh failed: {escape(message)}"
