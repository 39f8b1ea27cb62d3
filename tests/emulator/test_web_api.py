"""Web API methods through slack_sdk's WebClient, answering as Slack does."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.emulator import Emulator


def api_error(fn, /, **kwargs: object) -> dict[str, object]:  # type: ignore[no-untyped-def]
    with pytest.raises(SlackApiError) as info:
        fn(**kwargs)
    data: dict[str, object] = info.value.response.data
    return data


def test_auth_test_names_the_bot_and_sends_scopes(client: WebClient) -> None:
    response = client.auth_test()

    assert response["user_id"] == "U0PLATBOT"
    assert response["bot_id"] == "B0PLATBOT"
    assert response["team_id"] == "T0PLATFORM"
    assert "chat:write" in response.headers["x-oauth-scopes"]


def test_missing_or_wrong_token_is_refused(emulator: Emulator) -> None:
    assert api_error(WebClient(base_url=emulator.api_url).auth_test)["error"] == "not_authed"
    wrong = WebClient(token="xoxb-wrong", base_url=emulator.api_url)
    assert api_error(wrong.auth_test)["error"] == "invalid_auth"


def test_form_json_and_query_encodings_are_all_accepted(emulator: Emulator) -> None:
    auth = {"Authorization": f"Bearer {emulator.bot_token}"}
    url = emulator.api_url + "users.info"
    form = httpx.post(url, data={"user": "U0BOB"}, headers=auth).json()
    as_json = httpx.post(url, json={"user": "U0BOB"}, headers=auth).json()
    query = httpx.get(url, params={"user": "U0BOB", "token": emulator.bot_token}).json()

    assert form["user"]["name"] == as_json["user"]["name"] == query["user"]["name"] == "bob"


def test_post_update_and_delete_a_message(client: WebClient, emulator: Emulator) -> None:
    posted = client.chat_postMessage(channel="C0PLATFORM", text="deploying")
    client.chat_update(channel="C0PLATFORM", ts=posted["ts"], text="deployed")

    [message] = emulator.messages("platform")
    assert (message.text, message.edited is not None, message.bot_id) == (
        "deployed",
        True,
        "B0PLATBOT",
    )
    client.chat_delete(channel="C0PLATFORM", ts=posted["ts"])
    assert emulator.messages("platform") == []


def test_thread_replies_keep_their_parent(client: WebClient, emulator: Emulator) -> None:
    parent = client.chat_postMessage(channel="C0SEARCH", text="parent")
    client.chat_postMessage(channel="C0SEARCH", text="reply", thread_ts=parent["ts"])

    assert [m.thread_ts for m in emulator.messages("search")] == [None, parent["ts"]]


def test_message_errors_use_slack_codes(client: WebClient, emulator: Emulator) -> None:
    assert (
        api_error(client.chat_postMessage, channel="C0NOPE", text="x")["error"]
        == "channel_not_found"
    )
    no_text = api_error(
        client.api_call, api_method="chat.postMessage", json={"channel": "C0GENERAL"}
    )
    assert no_text["error"] == "no_text"
    too_long = api_error(client.chat_postMessage, channel="C0GENERAL", text="x" * 40_001)
    assert too_long["error"] == "msg_too_long"
    missing = api_error(client.chat_update, channel="C0GENERAL", ts="1.000001", text="x")
    assert missing["error"] == "message_not_found"
    assert emulator.messages("general") == []


def test_bot_must_be_a_member_to_post() -> None:
    from bot.emulator import Workspace

    workspace = Workspace.default()
    lonely = workspace.model_copy(
        update={
            "channels": (
                *workspace.channels,
                workspace.channels[0].model_copy(
                    update={"id": "C0LONELY", "name": "lonely", "members": ("U0ALICE",)}
                ),
            )
        }
    )
    with Emulator(lonely, rate_limits=None) as emu:
        client = WebClient(token=emu.bot_token, base_url=emu.api_url)
        assert (
            api_error(client.chat_postMessage, channel="C0LONELY", text="x")["error"]
            == "not_in_channel"
        )


def test_only_the_bots_own_messages_can_be_updated(client: WebClient, emulator: Emulator) -> None:
    from bot.emulator.state import Message

    emulator.state.post(
        Message(channel="C0GENERAL", ts="1.000001", text="hi", blocks=[], user="U0BOB")
    )

    error = api_error(client.chat_update, channel="C0GENERAL", ts="1.000001", text="x")
    assert error["error"] == "cant_update_message"


def test_ephemeral_goes_to_one_member(client: WebClient, emulator: Emulator) -> None:
    response = client.chat_postEphemeral(channel="C0PAYMENTS", user="U0BOB", text="psst")

    [ephemeral] = emulator.state.ephemerals("U0BOB")
    assert (ephemeral.ts, ephemeral.channel, ephemeral.text) == (
        response["message_ts"],
        "C0PAYMENTS",
        "psst",
    )
    outsider = api_error(client.chat_postEphemeral, channel="C0PAYMENTS", user="U0DAVE", text="x")
    assert outsider["error"] == "user_not_in_channel"


def test_dm_opens_once_and_posting_to_a_user_id_lands_there(
    client: WebClient, emulator: Emulator
) -> None:
    first = client.conversations_open(users="U0CAROL")
    again = client.conversations_open(users="U0CAROL", return_im=True)
    client.chat_postMessage(channel="U0CAROL", text="hello carol")

    dm = first["channel"]["id"]
    assert dm.startswith("D") and again["channel"]["id"] == dm and again["already_open"] is True
    assert again["channel"]["user"] == "U0CAROL"
    assert [m.text for m in emulator.state.messages(dm)] == ["hello carol"]
    assert client.conversations_info(channel=dm)["channel"]["is_im"] is True
    assert api_error(client.conversations_open, users="U0FRANK")["error"] == "user_disabled"


def test_users_list_paginates_with_cursors(client: WebClient, emulator: Emulator) -> None:
    ids: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = client.users_list(limit=3, cursor=cursor)
        ids += [u["id"] for u in page["members"]]
        pages += 1
        cursor = page["response_metadata"]["next_cursor"]
        if not cursor:
            break

    assert ids == [u.id for u in emulator.workspace.users]
    assert pages == 3
    assert api_error(client.users_list, cursor="bm9wZQ==")["error"] == "invalid_cursor"


def test_user_lookups(client: WebClient) -> None:
    erin = client.users_lookupByEmail(email="ERIN@example.com")["user"]
    assert (erin["id"], erin["is_restricted"], erin["tz"]) == (
        "U0ERIN",
        True,
        "America/Los_Angeles",
    )
    assert (
        api_error(client.users_lookupByEmail, email="nobody@example.com")["error"]
        == "users_not_found"
    )
    assert api_error(client.users_info, user="U0NOPE")["error"] == "user_not_found"
    assert client.users_info(user="U0FRANK")["user"]["deleted"] is True


def test_usergroups_and_their_members(client: WebClient) -> None:
    groups = client.usergroups_list(include_users=True)["usergroups"]
    without = client.usergroups_list()["usergroups"]

    assert {g["handle"]: g["users"] for g in groups} == {
        "platform-team": ["U0ALICE"],
        "payments-eng": ["U0BOB", "U0CAROL"],
    }
    assert "users" not in without[0]
    assert client.usergroups_users_list(usergroup="S0PAYMENTS")["users"] == ["U0BOB", "U0CAROL"]


def test_conversation_members_paginate(client: WebClient) -> None:
    first = client.conversations_members(channel="C0GENERAL", limit=4)
    rest = client.conversations_members(
        channel="C0GENERAL", cursor=first["response_metadata"]["next_cursor"]
    )

    assert first["members"] + rest["members"] == [
        "U0ALICE",
        "U0BOB",
        "U0CAROL",
        "U0DAVE",
        "U0ERIN",
        "U0PLATBOT",
    ]
    assert rest["response_metadata"]["next_cursor"] == ""


def test_unknown_method_and_argument_checks(client: WebClient, specs_dir: Path) -> None:
    assert api_error(client.api_call, api_method="chat.fly")["error"] == "unknown_method"
    unknown = api_error(client.chat_postMessage, channel="C0GENERAL", text="x", colour="red")
    assert unknown == {
        "ok": False,
        "error": "invalid_arg_name",
        "response_metadata": {"messages": ["[ERROR] unknown argument: colour"]},
    }
    missing = api_error(client.api_call, api_method="chat.postMessage", json={"text": "x"})
    assert missing["response_metadata"] == {"messages": ["[ERROR] missing required field: channel"]}


def test_without_the_spec_builtin_methods_are_still_checked() -> None:
    with Emulator(spec_dir=None, rate_limits=None) as emu:
        client = WebClient(token=emu.bot_token, base_url=emu.api_url)
        client.chat_postMessage(channel="C0GENERAL", text="x", colour="red")  # not checked
        error = api_error(client.files_getUploadURLExternal, filename="a.txt", length=1, x=1)
        assert error["error"] == "invalid_arg_name"


def test_files_upload_v2_shares_the_file_into_the_channel(
    client: WebClient, emulator: Emulator
) -> None:
    response = client.files_upload_v2(
        channel="C0PLATFORM",
        content="report body",
        filename="report.txt",
        title="Report",
        initial_comment="Here",
    )

    [message] = emulator.messages("platform")
    assert message.text == "Here"
    assert [(f["name"], f["title"], f["size"]) for f in message.files] == [
        ("report.txt", "Report", 11)
    ]
    assert response["file"]["id"] == message.files[0]["id"]
    [stored] = emulator.state.files
    assert stored["content"] == b"report body"


def test_control_api_reports_calls_and_messages(client: WebClient, emulator: Emulator) -> None:
    client.chat_postMessage(channel="C0GENERAL", text="hello")
    base = emulator.base_url + "/_emulator/"

    calls = httpx.get(base + "calls", params={"method": "chat.postMessage"}).json()["calls"]
    messages = httpx.get(base + "messages", params={"channel": "general"}).json()["messages"]

    assert [c["params"] for c in calls] == [{"channel": "C0GENERAL", "text": "hello"}]
    assert [m["text"] for m in messages] == ["hello"]
    assert emulator.calls("chat.postMessage")[0].status == 200
    assert json.dumps(messages)  # serialisable as sent
