"""The adapters' error tree.

    IntegrationError              any failure talking to a provider
    ├── ProviderUnavailable       connection refused, timeout, 5xx: worth retrying later
    │   └── ProviderRateLimited   HTTP 429: the call was refused, wait `retry_after` seconds
    ├── ProviderRejected          the provider said no (4xx, bad request, permission)
    └── ProviderNotFound          the object asked for does not exist there

Messages name the provider and what failed, never credentials or full URLs with secrets.
"""

from __future__ import annotations


class IntegrationError(Exception):
    def __init__(self, provider: str, message: str) -> None:
        super().__init__(f"{provider}: {message}")
        self.provider = provider
        self.message = message


class ProviderUnavailable(IntegrationError):
    pass


class ProviderRateLimited(ProviderUnavailable):
    """The provider refused the call for now; it was not carried out."""

    def __init__(self, provider: str, message: str, *, retry_after: float) -> None:
        super().__init__(provider, message)
        self.retry_after = retry_after


class ProviderRejected(IntegrationError):
    pass


class ProviderNotFound(IntegrationError):
    pass
