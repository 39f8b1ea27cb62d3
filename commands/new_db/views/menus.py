"""Select menus of the new-db modals, and plan costs as people read them (pure builders)."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Option, OptionGroup, StaticSelectElement

from commands.new_db.service.options import Option as Choice

MENU_OPTIONS = 100  # Slack's limit on a menu's options, and on its option groups
OPTION_TEXT = 75  # characters of an option's text, and of an option group's label


def cost_text(amount: float, currency: str) -> str:
    """The cost as people say it: 12 USD a month, 1,250.50 EUR a month."""
    shown = f"{amount:,.0f}" if amount == int(amount) else f"{amount:,.2f}"
    return f"{shown} {currency} a month"


def options(choices: Sequence[Choice], currency: str = "USD") -> list[Option]:
    """One option per choice; a plan's cost follows its label, which is cut to make room."""
    made = []
    for choice in choices:
        if choice.monthly_cost is None:
            text = choice.label[:OPTION_TEXT]
        else:
            cost = f" · {cost_text(choice.monthly_cost, currency)}"
            text = choice.label[: OPTION_TEXT - len(cost)] + cost
        made.append(Option(value=choice.value, text=text))
    return made


def select(action_id: str, choices: list[Option], initial: str | None) -> StaticSelectElement:
    chosen = next((o for o in choices if o.value == initial), None)
    if len(choices) <= MENU_OPTIONS:
        return StaticSelectElement(action_id=action_id, options=choices, initial_option=chosen)
    # Slack refuses a menu of more than 100 options, but takes up to 100 groups of 100: an
    # admin of a large organisation picks from every team.
    groups = [
        OptionGroup(label=_group_label(chunk), options=chunk)
        for chunk in (
            choices[start : start + MENU_OPTIONS]
            for start in range(0, min(len(choices), MENU_OPTIONS**2), MENU_OPTIONS)
        )
    ]
    return StaticSelectElement(action_id=action_id, option_groups=groups, initial_option=chosen)


def _group_label(chunk: Sequence[Option]) -> str:
    """The first and last entry a group holds ("Alpha … Kilo"), within a label's length."""
    first, last = (
        str(o.to_dict()["text"]["text"])[: OPTION_TEXT // 2 - 2] for o in (chunk[0], chunk[-1])
    )
    return f"{first} … {last}"
