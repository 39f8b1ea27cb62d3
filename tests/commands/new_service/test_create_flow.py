"""`/platform new-service` through the emulator: a real repository, the catalog, the env button."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from bot.core.jobs import Job
from bot.emulator.blockkit import check_message_blocks, check_view
from commands.environments.ids import ActionId as EnvActionId
from commands.environments.ids import BlockId as EnvBlockId
from commands.environments.ids import CallbackId as EnvCallbackId
from commands.new_service.feature import NewService
from commands.new_service.ids import ActionId, JobKind
from commands.new_service.models import ServiceRequest
from commands.new_service.service.questions import AnswersInvalid
from commands.new_service.service.requests import FormValues
from tests.commands.new_service.conftest import BOB, SvcBot
from tests.conftest import REPO_ROOT


def _clone(svc: SvcBot, name: str, into: Path) -> Path:
    subprocess.run(
        ["git", "clone", "-q", str(svc.repositories / f"{name}.git"), str(into)],
        check=True,
        capture_output=True,
    )
    return into


def _requests(svc: SvcBot) -> list[ServiceRequest]:
    with svc.bot.services.sessions() as session:
        return list(session.scalars(select(ServiceRequest)))


def test_a_new_service_is_a_cloneable_repository_in_the_catalog_at_once(
    svcbot: SvcBot, tmp_path: Path
) -> None:
    view = svcbot.open_form()
    check_view(view.spec)
    response = svcbot.submit(view, name="invoice-api", description="Bills customers & more")
    assert response.status == 200 and "Creating" in response.body, response.body

    assert svcbot.told("is created"), svcbot.dm_text()
    clone = _clone(svcbot, "invoice-api", tmp_path / "clone")
    for path in ("app.py", "tests/test_app.py", ".github/workflows/ci.yml", "Dockerfile"):
        assert (clone / path).is_file(), path
    entity = yaml.safe_load((clone / "catalog-info.yaml").read_text())
    assert entity["metadata"]["name"] == "invoice-api"
    assert entity["spec"]["owner"] == "payments"
    assert entity["metadata"]["description"] == "Bills customers & more"
    assert yaml.safe_load((clone / "score.yaml").read_text())["metadata"]["name"] == "invoice-api"
    log = subprocess.run(
        ["git", "-C", str(clone), "log", "--format=%an <%ae>|%s"], capture_output=True, text=True
    )
    assert (
        log.stdout.strip()
        == "Platform Bot <platform-bot@example.com>|invoice-api: from the python-service template"
    )

    answer = svcbot.bot.signer.slash_command("U0DAVE", "owner invoice-api")
    assert "is owned by *Payments*" in answer.body, answer.body
    [row] = _requests(svcbot)
    assert (row.status, row.live_name) == ("created", "invoice-api")
    dm = svcbot.bot.dm_messages(BOB)[-1]
    check_message_blocks(dm.blocks)
    assert "`/platform owner invoice-api` answers now" in json.dumps(dm.blocks)


def test_create_its_dev_environment_opens_the_env_form_prefilled(svcbot: SvcBot) -> None:
    view = svcbot.open_form()
    svcbot.submit(view, name="billing-notifications-service")
    assert svcbot.told("is created")
    dm = next(
        m for m in svcbot.bot.dm_messages(BOB) if ActionId.DEV_ENVIRONMENT in json.dumps(m.blocks)
    )
    state = svcbot.bot.emulator.state
    state.clear_views(BOB)
    svcbot.bot.signer.block_action(
        BOB,
        action_id=ActionId.DEV_ENVIRONMENT,
        value=dm.blocks[-1]["elements"][0]["value"],
        message=(dm.channel, dm.ts),
    )
    assert svcbot.bot.emulator.wait_for(lambda: bool(state.modal_stack(BOB)))
    form = state.modal_stack(BOB)[-1].spec
    assert form["callback_id"] == EnvCallbackId.FORM
    blocks = {b.get("block_id"): b for b in form["blocks"]}
    assert blocks[EnvBlockId.TEMPLATE]["element"]["initial_option"]["value"] == "sandbox"
    # The env form takes 20 characters: the name is cut at a word boundary's dash.
    assert blocks[EnvBlockId.NAME]["element"]["initial_value"] == "billing-notification"
    assert blocks[EnvBlockId.TEAM]["element"]["initial_option"]["value"] == "payments"


def test_the_shared_button_id_is_the_one_environments_listens_for() -> None:
    assert ActionId.DEV_ENVIRONMENT == EnvActionId.CREATE_PREFILLED


def test_a_forged_button_value_only_prefills_what_is_valid(svcbot: SvcBot) -> None:
    state = svcbot.bot.emulator.state
    forged = json.dumps({"template": "nope", "name": 7, "team": "search"})
    button = {
        "type": "button",
        "action_id": EnvActionId.CREATE_PREFILLED,
        "text": {"type": "plain_text", "text": "Create its dev environment"},
        "value": forged,
    }
    posted = svcbot.bot.services.slack.chat_postMessage(
        channel=BOB, text="x", blocks=[{"type": "actions", "elements": [button]}]
    )
    state.clear_views(BOB)
    svcbot.bot.signer.block_action(
        BOB,
        action_id=EnvActionId.CREATE_PREFILLED,
        value=forged,
        message=(str(posted["channel"]), str(posted["ts"])),
    )
    assert svcbot.bot.emulator.wait_for(lambda: bool(state.modal_stack(BOB)))
    blocks = {b.get("block_id"): b for b in state.modal_stack(BOB)[-1].spec["blocks"]}
    assert "initial_value" not in blocks[EnvBlockId.NAME]["element"]
    # bob is not in search: his own team is offered instead.
    assert blocks[EnvBlockId.TEAM]["element"]["initial_option"]["value"] == "payments"


def test_bad_answers_get_field_errors_and_create_nothing(svcbot: SvcBot) -> None:
    view = svcbot.open_form()
    response = svcbot.submit(view, name="Invoice_API", port="80", description="d" * 201)
    errors = response.json["errors"]
    assert "a-z, 0-9 and -" in errors["name"]
    assert errors["q_port"] == "A port from 1024 to 65535"
    assert errors["q_description"] == "At most 200 characters"
    response = svcbot.submit(view, name="invoice-api", port="eighty", description="ok")
    assert response.json["errors"] == {"q_port": "A whole number, please"}
    assert _requests(svcbot) == []
    assert not svcbot.repositories.exists() or not any(svcbot.repositories.iterdir())
    with svcbot.bot.services.sessions() as session:
        # Other features queue their own jobs at start (the docs index): count only ours.
        query = select(func.count()).select_from(Job).where(Job.kind == JobKind.CREATE)
        assert session.scalar(query) == 0


def test_an_existing_repository_name_is_a_field_error(svcbot: SvcBot) -> None:
    (svcbot.repositories / "orders-x.git").mkdir(parents=True)
    response = svcbot.submit(svcbot.open_form(), name="orders-x")
    assert "already exists" in response.json["errors"]["name"]
    assert _requests(svcbot) == []


def test_a_question_shown_by_an_earlier_answer_appears_when_it_is_picked(svcbot: SvcBot) -> None:
    view = svcbot.open_form()
    keys = [b["block_id"] for b in view.spec["blocks"]]
    assert "q_database_name" not in keys and "q_with_database" in keys
    # The name first: the database's default is made from it.
    svcbot.bot.emulator.state.set_view_value(view.id, "name", "svc_field", "ledger-api")
    rebuilt = svcbot.pick(view, "with_database", "1")
    check_view(rebuilt.spec)
    blocks = {b["block_id"]: b for b in rebuilt.spec["blocks"]}
    assert blocks["q_database_name"]["element"]["initial_value"] == "ledger_api"
    response = svcbot.submit(rebuilt, name="ledger-api", database_name="ledger")
    assert "Creating" in response.body, response.body
    assert svcbot.told("is created")
    score = subprocess.run(
        ["git", "-C", str(svcbot.repositories / "ledger-api.git"), "show", "main:score.yaml"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert yaml.safe_load(score)["resources"]["db"]["metadata"]["annotations"] == {
        "database-name": "ledger"
    }


def _broken_template(config, tmp_path: Path):  # type: ignore[no-untyped-def]
    template = tmp_path / "broken"
    (template / "template").mkdir(parents=True)
    (template / "copier.yml").write_text(
        "_subdirectory: template\nname: {type: str}\nowner: {type: str}\n"
    )
    (template / "template" / "catalog-info.yaml.jinja").write_text("{{ name | no_such_filter }}\n")
    templates = {
        "broken": config.services.templates["python-service"].model_copy(
            update={"source": str(template)}
        )
    }
    return config.model_copy(
        update={"services": config.services.model_copy(update={"templates": templates})}
    )


# copier's scantree() leaves an os.scandir iterator open when a render fails midway (copier
# 9.x); Python reports it as a ResourceWarning when the iterator is collected.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("svcbot", [_broken_template], indirect=True)
def test_a_template_that_fails_to_render_says_so_and_leaves_nothing(svcbot: SvcBot) -> None:
    response = svcbot.submit(svcbot.open_form(text="new-service broken"), name="broken-api")
    assert "Creating" in response.body
    assert svcbot.told("was not created"), svcbot.dm_text()
    assert "copier could not render the template" in svcbot.dm_text()
    assert "no_such_filter" in svcbot.dm_text()
    assert not (svcbot.repositories / "broken-api.git").exists()
    assert not (svcbot.catalog / "scaffolded" / "broken-api").exists()
    [row] = _requests(svcbot)
    assert (row.status, row.live_name) == ("failed", None)


def _repositories_root_is_a_file(config, tmp_path: Path):  # type: ignore[no-untyped-def]
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")
    repositories = config.services.repositories.model_copy(update={"root": blocked})
    section = config.services.model_copy(update={"repositories": repositories})
    return config.model_copy(update={"services": section})


@pytest.mark.parametrize("svcbot", [_repositories_root_is_a_file], indirect=True)
def test_a_git_failure_is_told_and_leaves_nothing_behind(svcbot: SvcBot) -> None:
    response = svcbot.submit(svcbot.open_form(), name="ledger-api")
    assert "Creating" in response.body
    assert svcbot.told("was not created"), svcbot.dm_text()
    assert "the repositories directory is not usable" in svcbot.dm_text()
    assert not (svcbot.catalog / "scaffolded" / "ledger-api").exists()
    answer = svcbot.bot.signer.slash_command("U0DAVE", "owner ledger-api")
    assert "owned by" not in answer.body
    # The name is free again: the next try (once fixed) is not refused as taken.
    [row] = _requests(svcbot)
    assert (row.status, row.live_name) == ("failed", None)


def test_a_retried_submit_is_one_request(svcbot: SvcBot) -> None:

    api = svcbot.bot.feature("new-service")
    assert isinstance(api, NewService)
    principal = svcbot.bot.services.identity.principal(BOB)
    values = FormValues(template="python-service", name="ledger-api", owner="payments")
    first = api.requests.submit(principal, values, request_key="svc:V1", channel=None)
    again = api.requests.submit(principal, values, request_key="svc:V1", channel=None)
    assert not first.duplicate
    assert again.duplicate and again.id == first.id
    other = FormValues(template="python-service", name="ledger-api", owner="payments")
    # Another request for the name: taken while it is made, and once it exists.
    with pytest.raises(AnswersInvalid, match=r"being created by someone else|already exists"):
        api.requests.submit(principal, other, request_key="svc:V2", channel=None)
    assert svcbot.told("is created")
    assert len(_requests(svcbot)) == 1


def _template_from_git(config, tmp_path: Path):  # type: ignore[no-untyped-def]
    origin = tmp_path / "template-origin"
    shutil.copytree(REPO_ROOT / "examples" / "templates" / "python-service", origin)
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "v1"]):
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=origin, check=True
        )
    subprocess.run(["git", "tag", "v1"], cwd=origin, check=True)
    git = config.services.templates["python-service"].model_copy(
        update={"source": f"file://{origin}", "ref": "v1"}
    )
    section = config.services.model_copy(update={"templates": {"from-git": git}})
    return config.model_copy(update={"services": section})


@pytest.mark.parametrize("svcbot", [_template_from_git], indirect=True)
def test_a_template_from_a_git_url_is_cloned_on_first_use(svcbot: SvcBot, tmp_path: Path) -> None:
    view = svcbot.open_form(text="new-service from-git")
    assert "q_python_version" in [b["block_id"] for b in view.spec["blocks"]]
    assert "Creating" in svcbot.submit(view, name="git-made").body
    assert svcbot.told("is created"), svcbot.dm_text()
    clone = _clone(svcbot, "git-made", tmp_path / "clone")
    assert yaml.safe_load((clone / "catalog-info.yaml").read_text())["spec"]["owner"] == "payments"
