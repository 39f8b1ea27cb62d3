"""The `docs:` section of the platform config: which documentation trees to index.

A tree is a directory of Markdown, laid out as MkDocs (and Backstage TechDocs) lay it out: a
`mkdocs.yml` naming the `site_name`, the `nav` titles and `docs_dir` (default `docs/`),
or just a directory of `.md` files. `site_url` is where the built site is served; links in
answers are that address plus the page's path as MkDocs builds it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, Field, HttpUrl, TypeAdapter, ValidationError, field_validator

from bot.core.config import Section

TREE_NAME = re.compile(r"[a-z][a-z0-9-]{0,30}")
# A PostgreSQL text-search configuration name (`english`, `simple`, `german`, …): it is
# passed as a bound parameter cast to regconfig, and the pattern keeps errors readable.
_TS_CONFIG = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_HTTP_URL: TypeAdapter[HttpUrl] = TypeAdapter(HttpUrl)
MAX_TREES = 50


def _site_url(value: str) -> str:
    try:
        parsed = _HTTP_URL.validate_python(value)
    except ValidationError:
        raise ValueError(f"{value!r} is not an http(s) URL") from None
    text = str(parsed)
    # The URL is placed inside `<url|title>` links: characters that would end the link
    # or start a new one have no place in it.
    if any(char in text for char in "<>| "):
        raise ValueError(f"{value!r} has characters a Slack link cannot hold")
    return text if text.endswith("/") else text + "/"


SiteUrl = Annotated[str, AfterValidator(_site_url)]


class DocsTree(Section):
    name: str = Field(description="a short slug shown nowhere but in stats: platform, payments")
    path: Path = Field(
        description="the tree's directory (holding mkdocs.yml), relative to the config"
    )
    site_url: SiteUrl | None = Field(
        default=None, description="the built site's address; default mkdocs.yml's site_url"
    )
    title: str | None = Field(
        default=None,
        max_length=80,
        description="the breadcrumbs' first step; default mkdocs.yml's site_name, else the name",
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not TREE_NAME.fullmatch(value):
            raise ValueError(f"{value!r}: lowercase letters, digits and '-', at most 31")
        return value


def _site_template(value: str) -> str:
    try:
        _site_url(value.format(namespace="default", kind="component", name="x"))
    except (KeyError, IndexError, ValueError) as error:
        raise ValueError(
            f"{value!r} must be an http(s) URL using only {{namespace}}, {{kind}} and {{name}}"
        ) from error
    return value


class DocsCatalog(Section):
    """Also index the TechDocs of catalog entities (`backstage.io/techdocs-ref: dir:…`)."""

    path: Path = Field(description="the catalog-info.yaml directory, relative to the config")
    site_url: Annotated[str, AfterValidator(_site_template)] = Field(
        description="where an entity's docs are served, e.g. "
        "https://backstage.acme.example/docs/{namespace}/{kind}/{name}/"
    )


class DocsSection(Section):
    trees: list[DocsTree] = Field(default_factory=list, max_length=MAX_TREES)
    catalog: DocsCatalog | None = None
    language: str = Field(
        default="english",
        description="PostgreSQL text-search configuration: english stems English words; "
        "simple for other languages (SQLite always uses unicode61 with Porter stemming)",
    )
    refresh_minutes: int = Field(default=15, ge=1, le=24 * 60)
    max_pages: int = Field(default=20_000, ge=1, le=200_000, description="per tree")
    max_page_chars: int = Field(default=20_000, ge=1_000, le=200_000)
    max_file_bytes: int = Field(default=1_000_000, ge=10_000, le=20_000_000)

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        if not _TS_CONFIG.fullmatch(value):
            raise ValueError(f"{value!r} is not a text-search configuration name")
        return value

    @field_validator("trees")
    @classmethod
    def _unique(cls, value: list[DocsTree]) -> list[DocsTree]:
        names = [tree.name for tree in value]
        doubled = sorted({name for name in names if names.count(name) > 1})
        if doubled:
            raise ValueError(f"tree names must be unique: {', '.join(doubled)}")
        return value
