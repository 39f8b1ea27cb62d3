"""Field errors for a modal, shared by the resource features' forms."""

from __future__ import annotations

from collections.abc import Mapping

from bot.core.errors import InvalidInput


class FormInvalid(InvalidInput):
    """Field errors for a modal, keyed by field name (engine, name, tier, …, confirm_name)."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("; ".join(errors.values()), field=next(iter(errors), None))
        self.errors = dict(errors)
