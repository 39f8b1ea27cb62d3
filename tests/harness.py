"""The bot with fake adapters: the feature list with some adapters replaced.

build = functools.partial(build_services, features=features_with(provisioners=fakes))
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from bot.core.feature import Feature
from bot.runtime.features import FEATURES
from integrations.protocols import Provisioner, SecretStore


def features_with(
    *,
    provisioners: Mapping[str, Provisioner] | None = None,
    secret_store: SecretStore | None = None,
) -> tuple[Feature[Any], ...]:
    """`FEATURES`, with new-db using `provisioners` (and `secret_store`) instead of real ones."""
    changes: dict[str, Any] = {}
    if provisioners is not None:
        changes["provisioners"] = lambda _section, _core: provisioners
    if secret_store is not None:
        changes["secrets"] = lambda _section, _core: secret_store
    return tuple(
        dataclasses.replace(feature, **changes)  # type: ignore[type-var]
        if feature.name == "new-db" and changes
        else feature
        for feature in FEATURES
    )
