"""The shell end to end: a script on stdin drives a real Bolt app, served over HTTP or
connected over Socket Mode (every flow runs over both transports)."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest

from bot.emulator import Emulator, Shell, SlackSigner
from tests.emulator.demo_app import build_app, serve
from tests.emulator.socket_app import connected


@pytest.fixture
def http_signer(emulator: Emulator) -> Iterator[SlackSigner]:
    with serve(build_app(emulator)) as url:
        signer = SlackSigner(emulator, url, emulator.signing_secret)
        yield signer
        signer.close()


@pytest.fixture(params=["http", "socket"])
def app_signer(request: pytest.FixtureRequest, emulator: Emulator) -> Iterator[SlackSigner]:
    """A signer that reaches the demo app over signed HTTP, or over Socket Mode."""
    if request.param == "http":
        yield request.getfixturevalue("http_signer")
        return
    with connected(build_app(emulator), emulator):
        yield SlackSigner.over_socket(emulator)


def run_script(emulator: Emulator, signer: SlackSigner, script: str, **kwargs: str) -> str:
    stdout = io.StringIO()
    shell = Shell(
        emulator, signer, stdin=io.StringIO(script), stdout=stdout, interactive=False, **kwargs
    )
    assert shell.run() == 0
    return stdout.getvalue()


def test_slash_command_ack_text_is_shown_only_to_the_caller(
    emulator: Emulator, app_signer: SlackSigner
) -> None:
    output = run_script(emulator, app_signer, "/platform hello\n")

    assert output == ("platform-bot (only visible to you):\n  Hello @alice, this is #general\n")
    assert emulator.messages("general") == []


def test_modal_is_filled_and_submitted_and_the_app_posts_the_result(
    emulator: Emulator, app_signer: SlackSigner
) -> None:
    output = run_script(
        emulator,
        app_signer,
        "/platform deploy\n:fill 1 payments\n:fill env Production\n:submit\n",
    )

    assert output == (
        "== Deploy ==\n"
        "  (1) Service [required, plain_text_input]: (empty)\n"
        "  (2) Environment [required, static_select]: (empty)\n"
        "      options: Staging | Production\n"
        "  <Deploy> <Cancel>  (:submit / :close)\n"
        "  Service = payments\n"
        "  Environment = Production\n"
        "platform-bot:\n"
        "  @alice deploys payments to prod\n"
        "(modal closed)\n"
    )
    [message] = emulator.messages("general")
    assert message.text == "<@U0ALICE> deploys *payments* to prod"
    assert emulator.state.modal_stack("U0ALICE") == []


def test_field_errors_from_the_app_keep_the_modal_open(
    emulator: Emulator, app_signer: SlackSigner
) -> None:
    output = run_script(
        emulator, app_signer, "/platform deploy\n:fill 1 unknown\n:fill 2 staging\n:submit\n"
    )

    assert "      ! No such service" in output
    assert len(emulator.state.modal_stack("U0ALICE")) == 1
    assert emulator.messages("general") == []


def test_required_inputs_block_submission_like_the_slack_client(
    emulator: Emulator, app_signer: SlackSigner
) -> None:
    output = run_script(emulator, app_signer, "/platform deploy\n:submit\n")

    assert "! some required fields are empty" in output
    assert "      ! Please complete this required field." in output


def test_button_click_updates_the_message_for_everyone(
    emulator: Emulator, app_signer: SlackSigner
) -> None:
    output = run_script(emulator, app_signer, "/platform approve search\n:as bob\n:click 1\n")

    assert "platform-bot:\n  APPROVAL NEEDED\n  Deploy search?\n  [1 Approve] [2 Deny]\n" in output
    assert "you are now bob\nplatform-bot (edited):\n  Approved by @bob\n" in output
    [message] = emulator.messages("general")
    assert message.text == "Approved by <@U0BOB>"


def test_click_by_action_id_and_respond_replace_original(
    emulator: Emulator, app_signer: SlackSigner
) -> None:
    output = run_script(emulator, app_signer, "/platform approve search\n:click deny\n")

    assert output.endswith("platform-bot (edited):\n  Denied\n")


def test_in_channel_ack_shows_the_command_and_the_reply(
    emulator: Emulator, app_signer: SlackSigner
) -> None:
    output = run_script(emulator, app_signer, ":in #platform\n/platform announce\n")

    assert output == (
        "you are now in #platform\n"
        "alice:\n  /platform announce\n"
        "platform-bot:\n  Everyone sees this\n"
    )
    assert [m.text for m in emulator.messages("platform")] == [
        "/platform announce",
        "Everyone sees this",
    ]


def test_response_url_reply_after_ack_is_waited_for(
    emulator: Emulator, app_signer: SlackSigner
) -> None:
    output = run_script(emulator, app_signer, "/platform later\n")

    assert output == "platform-bot (only visible to you):\n  Done later, via response_url\n"


def test_meta_commands_list_and_report_mistakes(
    emulator: Emulator, http_signer: SlackSigner
) -> None:
    output = run_script(
        emulator, http_signer, ":users\n:channels\n:click 1\n:nope\n:as nobody\n:history\n"
    )

    assert "U0ERIN  @erin  Erin Guest (guest)" in output
    assert "U0FRANK  @frank  Frank Former (deactivated)" in output
    assert "C0PLATFORM  #platform (you are a member)" in output
    assert "C0PAYMENTS  #payments\n" in output
    assert "! nothing numbered 1 on the last message or modal" in output
    assert "unknown command :nope; :help lists commands" in output
    assert "! no user nobody" in output
    assert "(#general is empty)" in output


def test_quit_stops_before_the_rest_of_the_script(
    emulator: Emulator, http_signer: SlackSigner
) -> None:
    output = run_script(emulator, http_signer, ":help\n:quit\n/platform hello\n")

    assert ":click N|ACTION_ID" in output
    assert "Hello" not in output
