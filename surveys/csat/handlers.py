"""Slack listener for the CSAT buttons."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, Respond

from surveys.csat import views
from surveys.csat.service import CsatService


class CsatHandlers:
    def __init__(self, service: CsatService) -> None:
        self._service = service

    def handle_rate(self, ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        action = body["actions"][0]
        score = views.parse_score(action["action_id"])
        self._service.rate(request_id=int(action["value"]), user_id=body["user"]["id"], score=score)
        rated = views.build_rated(score)
        respond(text=rated.text, blocks=rated.blocks, replace_original=True)
