"""Slack listener for the CSAT buttons: on the prompt in the action's thread, or on the
person's App Home (the same buttons, offered through `Core.dashboard`)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from surveys.csat import views
from surveys.csat.service import CsatService

logger = logging.getLogger(__name__)


def _nobody(_people: Collection[str]) -> None:
    return None


class CsatHandlers:
    def __init__(
        self, service: CsatService, changed: Callable[[Collection[str]], None] = _nobody
    ) -> None:
        self._service = service
        self._changed = changed
        """`Core.dashboard.changed`: a rated prompt leaves the person's App Home."""

    def handle_rate(
        self, ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        ack()
        action = body["actions"][0]
        score = views.parse_score(action["action_id"])
        user_id = body["user"]["id"]
        channel, ts = self._service.rate(
            request_id=int(action["value"]), user_id=user_id, score=score
        )
        rated = views.build_rated(score)
        if body.get("response_url"):  # clicked on the prompt itself
            respond(text=rated.text, blocks=rated.blocks, replace_original=True)
        elif ts is not None:  # clicked on the App Home: the prompt in the thread follows
            try:
                client.chat_update(channel=channel, ts=ts, text=rated.text, blocks=rated.blocks)
            except SlackApiError as exc:
                logger.warning(
                    "a rated CSAT prompt could not be updated: %s", exc.response.get("error")
                )
        self._changed({user_id})
