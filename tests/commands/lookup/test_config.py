"""The `catalog:` section: which files the files provider reads."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from commands.lookup.config import CatalogSection


def test_by_default_every_yaml_file_is_a_catalog_file() -> None:
    assert CatalogSection().files.globs == ["**/*.yaml", "**/*.yml"]


@pytest.mark.parametrize("globs", [["**/catalog-info.yaml"], ["teams/*.yaml", "catalog-info.yml"]])
def test_globs_inside_the_catalog_directory_are_accepted(globs: list[str]) -> None:
    assert CatalogSection.model_validate({"files": {"globs": globs}}).files.globs == globs


@pytest.mark.parametrize("globs", [[], [""], ["/etc/*.yaml"], ["../other/*.yaml"], ["a/../../b"]])
def test_globs_that_leave_the_catalog_directory_are_refused(globs: list[str]) -> None:
    with pytest.raises(ValidationError):
        CatalogSection.model_validate({"files": {"globs": globs}})
