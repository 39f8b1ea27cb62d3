"""The `services:` section of the platform config: copier templates and where repositories go.

services:
  repositories: {root: platform-bot-data/repositories}
  catalog_dir: examples/catalog/scaffolded
  templates:
    python-service:
      source: examples/templates/python-service      # or a git URL
      description: A Python HTTP service
      dev_environment_template: sandbox
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field, field_validator

from bot.core.config import Section

TEMPLATE_KEY = re.compile(r"[a-z][a-z0-9-]{0,30}")
_GIT_URL = re.compile(r"(https://|ssh://|git@|file://)\S+")


def is_git_url(source: str) -> bool:
    return bool(_GIT_URL.fullmatch(source))


class ServiceTemplateConfig(Section):
    source: str = Field(
        min_length=1,
        max_length=500,
        description="a directory with copier.yml (relative to the config) or a git URL",
    )
    ref: str | None = Field(
        default=None, max_length=200, description="a git URL's tag or branch to render"
    )
    description: str = Field(default="", max_length=150)
    dev_environment_template: str | None = Field(
        default=None,
        max_length=31,
        description="the environments template its 'Create its dev environment' button offers",
    )


class RepositoriesConfig(Section):
    root: Path = Field(
        default=Path("platform-bot-data/repositories"),
        description="bare repositories are made here as NAME.git (relative to the config)",
    )
    default_branch: str = Field(default="main", pattern=r"^[A-Za-z0-9._/-]{1,100}$")
    author_name: str = Field(default="Platform Bot", min_length=1, max_length=100)
    author_email: str = Field(default="platform-bot@localhost", min_length=3, max_length=200)


class ServicesSection(Section):
    templates: dict[str, ServiceTemplateConfig] = Field(default_factory=dict)
    repositories: RepositoriesConfig = Field(default_factory=RepositoriesConfig)
    catalog_dir: Path | None = Field(
        default=None,
        description="a directory the catalog's files provider reads: each new service's "
        "catalog-info.yaml is written there (relative to the config)",
    )
    render_timeout_seconds: float = Field(default=120, gt=0, le=3600)

    @field_validator("templates")
    @classmethod
    def _keys(cls, value: dict[str, ServiceTemplateConfig]) -> dict[str, ServiceTemplateConfig]:
        for key in value:
            if not TEMPLATE_KEY.fullmatch(key):
                raise ValueError(f"{key!r} is not a template name (a-z, 0-9 and -, 1-31)")
        return value
