"""Small words shared by the messages and modals: dates, costs, statuses."""

from __future__ import annotations

from datetime import datetime

STATUS_WORDS = {
    "pending_approval": ":hourglass: waiting for approval",
    "creating": ":construction: being created",
    "ready": ":white_check_mark: ready",
    "destroying": ":wastebasket: being destroyed",
    "destroyed": ":wastebasket: destroyed",
    "failed": ":x: failed",
    "denied": ":no_entry: denied",
    "expired": ":hourglass: approvals expired",
}


def when(moment: datetime | None) -> str:
    """A time every reader sees in their own time zone (Slack's date formatting)."""
    if moment is None:
        return "never"
    stamp = int(moment.timestamp())
    fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{stamp}^{{date_short_pretty}} {{time}}|{fallback}>"


def cost(monthly: float | None, currency: str) -> str:
    if monthly is None:
        return "not priced"
    return f"{monthly:,.2f} {currency} a month"


def status(value: str) -> str:
    return STATUS_WORDS.get(value, value.replace("_", " "))
