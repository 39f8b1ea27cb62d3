"""The errors of a Terraform run, placed in the adapters' tree (`integrations.errors`).

    ProviderRejected
    └── TerraformError        Terraform reported errors; `diagnostics` holds them all
        ├── TerraformLockError    another run holds the state lock: try again later
        └── MalformedOutput       a line of its output was not what `-json` promises
    ProviderUnavailable
    └── TerraformTimeout      the run outlived its timeout and was stopped

The message is the first error diagnostic's summary, cut to `MAX_MESSAGE`: summaries name
the kind of problem ("Invalid value for variable"), while details may quote values.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from integrations.errors import ProviderRejected, ProviderUnavailable

if TYPE_CHECKING:
    from integrations.terraform.events import Diagnostic

PROVIDER = "terraform"
MAX_MESSAGE = 200


class TerraformError(ProviderRejected):
    def __init__(self, message: str, diagnostics: Sequence[Diagnostic] = ()) -> None:
        if len(message) > MAX_MESSAGE:
            message = message[: MAX_MESSAGE - 1] + "…"
        super().__init__(PROVIDER, message)
        self.diagnostics = tuple(diagnostics)

    @classmethod
    def from_diagnostics(cls, diagnostics: Sequence[Diagnostic], fallback: str) -> TerraformError:
        errors = [d for d in diagnostics if d.severity == "error"]
        if any(d.summary == LOCK_SUMMARY for d in errors):
            return TerraformLockError("another run holds the lock", diagnostics)
        return cls(errors[0].summary if errors else fallback, diagnostics)


class TerraformLockError(TerraformError):
    pass


class MalformedOutput(TerraformError):
    pass


class TerraformTimeout(ProviderUnavailable):
    def __init__(self, command: str, seconds: float) -> None:
        super().__init__(PROVIDER, f"{command} did not finish within {seconds:g} s; stopped")


LOCK_SUMMARY = "Error acquiring the state lock"
