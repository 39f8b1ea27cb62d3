"""The `catalog:` and `oncall:` sections of the platform config (documented in README)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import (
    AfterValidator,
    Field,
    HttpUrl,
    SecretStr,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.core.config import Section
from integrations.backstage import DEFAULT_FILTERS
from integrations.catalog_files import DEFAULT_GLOBS

_HTTP_URL: TypeAdapter[HttpUrl] = TypeAdapter(HttpUrl)


def _parsed_url(value: str, shown: str) -> HttpUrl:
    """`value` as pydantic's HttpUrl reads it; the error names `shown`, the loader the key."""
    try:
        return _HTTP_URL.validate_python(value)
    except ValidationError:
        raise ValueError(f"{shown!r} is not an http(s) URL") from None


def _http_url(value: str) -> str:
    # Kept as text without a trailing slash: the adapters hand it to httpx, which takes text.
    return str(_parsed_url(value, value)).rstrip("/")


WebUrl = Annotated[str, AfterValidator(_http_url)]
"""An http(s) address with a host, checked by pydantic's HttpUrl (at most 2,083 characters)."""


class CatalogKind(StrEnum):
    FILES = "files"
    BACKSTAGE = "backstage"


class CatalogFilesConfig(Section):
    path: Path = Field(default=Path("examples/catalog"), description="relative to the config")
    globs: list[str] = Field(
        default_factory=lambda: list(DEFAULT_GLOBS),
        min_length=1,
        description="which files under path are catalog files; Locations add the ones they name",
    )

    @field_validator("globs")
    @classmethod
    def _globs(cls, value: list[str]) -> list[str]:
        for pattern in value:
            parts = pattern.replace("\\", "/").split("/")
            if not pattern.strip() or pattern.startswith("/") or ".." in parts:
                raise ValueError(
                    f"{pattern!r} is not a pattern inside the catalog directory, "
                    "such as **/catalog-info.yaml"
                )
        return value


class BackstageConfig(Section):
    base_url: WebUrl = Field(
        description="the catalog API, e.g. https://backstage.acme.io/api/catalog"
    )
    token: SecretStr | None = Field(default=None, description="static external-access token")
    filters: list[str] = Field(
        default_factory=lambda: list(DEFAULT_FILTERS),
        min_length=1,
    )
    page_size: int = Field(default=500, ge=1, le=10_000)
    timeout_seconds: float = Field(default=10, gt=0, le=120)

    @field_validator("filters")
    @classmethod
    def _filters(cls, value: list[str]) -> list[str]:
        for item in value:
            if not item.strip() or any(c.isspace() for c in item.strip()):
                raise ValueError(f"{item!r} is not a catalog filter such as kind=component")
        return value


class CatalogSection(Section):
    provider: CatalogKind = CatalogKind.FILES
    files: CatalogFilesConfig = Field(default_factory=CatalogFilesConfig)
    backstage: BackstageConfig | None = None
    refresh_minutes: int = Field(default=15, ge=1, le=1440)
    reload_check_seconds: float = Field(default=30, gt=0, le=3600)
    ui_url: str | None = Field(
        default=None,
        description="link for 'Open in catalog', with {kind}, {namespace} and {name}",
    )

    @field_validator("ui_url")
    @classmethod
    def _ui_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            example = value.format(kind="k", namespace="n", name="x")
        except (KeyError, IndexError, ValueError):
            raise ValueError(
                "may only use the placeholders {kind}, {namespace} and {name}"
            ) from None
        _parsed_url(example, value)
        return value  # the template itself: HttpUrl would percent-encode its braces

    @model_validator(mode="after")
    def _provider_configured(self) -> CatalogSection:
        if self.provider is CatalogKind.BACKSTAGE and self.backstage is None:
            raise ValueError("provider backstage needs a backstage: section with base_url")
        return self


class OnCallKind(StrEnum):
    ROTATION = "rotation"
    PAGERDUTY = "pagerduty"
    OPSGENIE = "opsgenie"


class RotationConfig(Section):
    path: Path = Field(default=Path("examples/oncall/rotations.yaml"))


class PagerDutyConfig(Section):
    token: SecretStr
    base_url: WebUrl = "https://api.pagerduty.com"
    from_email: str | None = Field(
        default=None, description="PagerDuty user email for incidents when the requester has none"
    )
    timeout_seconds: float = Field(default=5, gt=0, le=60)


class OpsgenieConfig(Section):
    api_key: SecretStr
    base_url: WebUrl = Field(
        default="https://api.opsgenie.com", description="EU: api.eu.opsgenie.com"
    )
    timeout_seconds: float = Field(default=5, gt=0, le=60)


class OnCallSection(Section):
    provider: OnCallKind = OnCallKind.ROTATION
    rotation: RotationConfig = Field(default_factory=RotationConfig)
    pagerduty: PagerDutyConfig | None = None
    opsgenie: OpsgenieConfig | None = None
    cache_seconds: int = Field(default=60, ge=0, le=3600)

    @model_validator(mode="after")
    def _provider_configured(self) -> OnCallSection:
        if self.provider is OnCallKind.PAGERDUTY and self.pagerduty is None:
            raise ValueError("provider pagerduty needs a pagerduty: section with a token")
        if self.provider is OnCallKind.OPSGENIE and self.opsgenie is None:
            raise ValueError("provider opsgenie needs an opsgenie: section with an api_key")
        return self
