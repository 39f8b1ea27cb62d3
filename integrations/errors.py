"""The adapters' error tree.

    IntegrationError              any failure talking to a provider
    ├── ProviderUnavailable       connection refused, timeout, 5xx: worth retrying later
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


class ProviderRejected(IntegrationError):
    pass


class ProviderNotFound(IntegrationError):
    pass
