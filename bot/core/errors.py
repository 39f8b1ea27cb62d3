"""Domain errors: what services raise and the global error handler turns into messages.

    PlatformError                 a problem the user can act on; `message` is shown to them
    ├── InvalidInput              bad arguments or form values (`field` names the modal block)
    ├── NotFound                  the named thing does not exist (`suggestions` may help)
    ├── NotAllowed                the policy does not allow this user to do this
    ├── Conflict                  already exists, already running, already decided
    └── Unavailable               a provider or server is down; try again later

`integrations.errors.IntegrationError` is the adapters' tree; services translate it into
`Unavailable` (or a more specific error) with a message that never carries a secret.
Anything else reaching the handler is a bug: it is logged with its traceback and the user
sees a short apology with a reference id.
"""

from __future__ import annotations


class PlatformError(Exception):
    """Base of the errors whose message is safe and useful to show to the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(PlatformError):
    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotFound(PlatformError):
    def __init__(self, message: str, *, suggestions: list[str] | None = None) -> None:
        super().__init__(message)
        self.suggestions = suggestions or []


class NotAllowed(PlatformError):
    pass


class Conflict(PlatformError):
    pass


class Unavailable(PlatformError):
    pass


class ConfigProblem(Exception):
    """A feature cannot run with this config (raised from `Feature.build`, before serving).

    `location` is the key path (`("databases", "secret_key")`); the runtime reports it like
    any other config error and the process exits without a traceback.
    """

    def __init__(self, location: tuple[str, ...], message: str) -> None:
        super().__init__(f"{'.'.join(location)}: {message}")
        self.location = location
        self.message = message
