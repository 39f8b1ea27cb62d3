"""The App Home's on-call shifts, open surveys and runbook approvals through the emulator
(Slack tier): what a person sees, and that the buttons run the owning feature's own flow."""

from __future__ import annotations

import json

from tests.commands.home.driving import open_home
from tests.commands.new_db.conftest import DbBot
from tests.commands.new_db.driving import BOB, DAVE

ERIN = "U0ERIN"  # a guest, in no rotation


def test_home_shows_the_persons_on_call_shifts_from_the_rotation_file(homebot: DbBot) -> None:
    bob = json.dumps(open_home(homebot, BOB).spec["blocks"])
    assert "Your on-call shifts (next 14 days)" in bob
    assert "On call: payments" in bob  # examples/oncall/rotations.yaml: Bob and Carol weekly
    assert "On call: search" not in bob
    dave = json.dumps(open_home(homebot, DAVE).spec["blocks"])
    assert "On call: search" in dave and "On call: payments" not in dave
    erin = json.dumps(open_home(homebot, ERIN).spec["blocks"])
    assert "No shifts." in erin  # in no rotation
