"""Templates: the config's rules, Score files (schema problems named), and the variables a
Score workload gets, resolved against what was made and handed over only by the reveal."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from commands.environments.config import EnvironmentsSection, TemplateConfig
from commands.environments.service.templates import TemplateProblem, load_templates
from tests.commands.environments.conftest import EnvBot
from tests.commands.environments.driving import BOB, create, wait_status
from tests.harness import example_config


def template(**values: object) -> TemplateConfig:
    base: dict[str, object] = {
        "description": "t",
        "tiers": ["dev"],
        "resources": {"db": "sqlite/small"},
    }
    return TemplateConfig.model_validate({**base, **values})


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({"resources": {}}, "exactly one of resources, score or module"),
        ({"module": "m"}, "exactly one of resources, score or module"),
        ({"resources": {}, "module": "m"}, "driver terraform goes with module"),
        ({"resources": {"Db": "sqlite/small"}}, "resource key"),
        ({"resources": {"abcdefghijk": "sqlite/small"}}, "resource key"),
        ({"resources": {"db": "sqlite"}}, "is not ENGINE/PLAN"),
        ({"mask_sql": {"cache": "x"}}, "mask_sql: no resource cache"),
        ({"tiers": []}, "at least 1"),
        ({"generated_secrets": ["bad name"]}, "not a Terraform variable name"),
        ({"ttl": {"dev": {"default_hours": 10, "max_hours": 5}}}, "larger than max_hours"),
        ({"ttl": {"dev": {"default_hours": float("nan"), "max_hours": 5}}}, "finite"),
        ({"monthly_cost": -1}, "greater than or equal to 0"),
    ],
)
def test_template_rules(values: dict[str, object], problem: str) -> None:
    with pytest.raises(ValidationError) as raised:
        template(**values)
    assert problem in str(raised.value)


def test_a_resource_key_of_10_characters_is_the_longest(envbot: EnvBot) -> None:
    assert template(resources={"abcdefghij": "sqlite/small"}).engine_plans()[0][0] == "abcdefghij"


def _load(section: EnvironmentsSection, config_dir: Path) -> None:
    load_templates(section, example_config().databases, config_dir)


def test_an_unknown_plan_engine_or_tier_names_the_template(tmp_path: Path) -> None:
    for values, problem in (
        ({"resources": {"db": "postgres/huge"}}, "resources.db: postgres has no plan 'huge'"),
        ({"resources": {"db": "oracle/small"}}, "engine 'oracle' is not under databases"),
        ({"tiers": ["qa"]}, "templates.t.tiers: unknown tier(s) qa"),
        (
            {"tiers": ["dev", "prod"], "resources": {"db": "postgres/small"}},
            "templates.t.tiers: postgres/small (db) is not a plan for prod",
        ),
    ):
        section = EnvironmentsSection(templates={"t": template(**values)})
        with pytest.raises(TemplateProblem) as raised:
            _load(section, tmp_path)
        assert problem in str(raised.value)


def test_a_score_file_that_fails_its_rules_names_the_field(tmp_path: Path) -> None:
    (tmp_path / "score.yaml").write_text(
        "apiVersion: score.dev/v1b1\nmetadata: {name: x}\ncontainers: {}\n"
    )
    section = EnvironmentsSection(
        templates={
            "t": template(resources={}, score="score.yaml", score_plans={"postgres": "small"})
        }
    )
    with pytest.raises(TemplateProblem) as raised:
        _load(section, tmp_path)
    assert "templates.t.score" in str(raised.value) and "containers" in str(raised.value)


def test_a_score_resource_no_engine_provides_is_refused(tmp_path: Path) -> None:
    (tmp_path / "score.yaml").write_text(
        "apiVersion: score.dev/v1b1\nmetadata: {name: web}\n"
        "containers: {main: {image: nginx}}\nresources: {bucket: {type: s3}}\n"
    )
    section = EnvironmentsSection(templates={"t": template(resources={}, score="score.yaml")})
    with pytest.raises(TemplateProblem) as raised:
        _load(section, tmp_path)
    assert "no engine here provides bucket (s3)" in str(raised.value)


def test_a_missing_score_file_is_named(tmp_path: Path) -> None:
    section = EnvironmentsSection(templates={"t": template(resources={}, score="gone.yaml")})
    with pytest.raises(TemplateProblem) as raised:
        _load(section, tmp_path)
    assert "cannot read" in str(raised.value)


def test_the_score_workloads_variables_come_with_the_credentials_only(envbot: EnvBot) -> None:
    create(envbot, BOB, "env create orders-api orders-dev", tier="dev")
    env = wait_status(envbot, "orders-dev", "ready")
    _, secrets = envbot.api.lifecycle.reveal(envbot.services.identity.principal(BOB), env.id)
    assert secrets["api: SERVICE_NAME"] == "orders-api"
    assert secrets["api: DATABASE_HOST"] == "127.0.0.1"
    assert secrets["api: DATABASE_URL"] == secrets["db.url"]
    assert secrets["api: CACHE_URL"].startswith("fake://orders-dev-cache_app:")
