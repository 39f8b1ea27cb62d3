"""The feature list: every feature the bot runs. Adding a feature is its folder plus one line.

The order is the order of help entries of equal name and of registration; nothing else
depends on it. Adapters (providers, provisioners, stores) come from `bot.runtime.adapters`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.core.feature import ConfigSection, Feature
from bot.runtime import adapters
from commands.audit.feature import AuditFeature
from commands.docs.feature import DocsFeature
from commands.environments.feature import EnvironmentsFeature
from commands.home.feature import HomeFeature
from commands.lookup.feature import LookupFeature
from commands.new_db.feature import NewDbFeature
from commands.new_service.feature import NewServiceFeature
from commands.runbooks.feature import RunbooksFeature
from commands.stats.feature import StatsFeature
from commands.whoami.feature import WhoamiFeature
from surveys.csat.feature import CsatFeature
from surveys.maturity.feature import MaturityFeature
from surveys.nps.feature import NpsFeature
from surveys.office_hours.feature import OfficeHoursFeature

FEATURES: tuple[Feature[Any], ...] = (
    WhoamiFeature(),
    LookupFeature(catalog=adapters.catalog_provider, oncall=adapters.oncall_provider),
    NewDbFeature(provisioners=adapters.provisioners, secrets=adapters.secret_store),
    EnvironmentsFeature(provisioners=adapters.provisioners, secrets=adapters.secret_store),
    RunbooksFeature(),
    NewServiceFeature(),
    NpsFeature(charts=adapters.charts),
    CsatFeature(),
    OfficeHoursFeature(),
    MaturityFeature(charts=adapters.charts),
    DocsFeature(catalog=adapters.catalog_files),
    StatsFeature(charts=adapters.stats_charts),
    AuditFeature(),
    HomeFeature(),
)


def config_sections(features: Sequence[Feature[Any]] = FEATURES) -> list[ConfigSection]:
    """Every feature's config sections, each key once (a family may share a section)."""
    found: dict[str, ConfigSection] = {}
    for feature in features:
        for section in feature.sections:
            known = found.setdefault(section.key, section)
            if known.model is not section.model:
                raise ValueError(
                    f"config section {section.key!r} is claimed by two different models"
                )
    return list(found.values())


def model_modules(features: Sequence[Feature[Any]] = FEATURES) -> list[str]:
    return list(dict.fromkeys(f.models for f in features if f.models is not None))


def migration_dirs(features: Sequence[Feature[Any]] = FEATURES) -> list[Path]:
    return list(dict.fromkeys(f.migrations for f in features if f.migrations is not None))


def check_names(features: Sequence[Feature[Any]]) -> None:
    names = [feature.name for feature in features]
    if len(set(names)) != len(names):
        raise ValueError(f"feature names must be unique: {names}")
