"""Publishing after changes: one publish per person per interval, the last change shown."""

from __future__ import annotations

import threading

from commands.home.refresh import RefreshQueue


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _queue(interval: float = 2.0, **extra: int) -> tuple[RefreshQueue, list[str], Ticks]:
    published: list[str] = []
    clock = Ticks()
    return RefreshQueue(published.append, interval=interval, clock=clock, **extra), published, clock


def test_a_burst_of_changes_is_one_publish_per_person() -> None:
    queue, published, _ = _queue()
    for _ in range(10):
        queue.changed({"U1", "U2"})
    assert queue.run_due() == 2
    assert sorted(published) == ["U1", "U2"]
    assert queue.run_due() == 0


def test_a_change_right_after_a_publish_waits_for_the_interval_and_is_not_lost() -> None:
    queue, published, clock = _queue(interval=2.0)
    queue.changed({"U1"})
    queue.run_due()
    clock.now += 0.5
    queue.changed({"U1"})
    assert queue.run_due() == 0  # too soon
    clock.now += 1.4
    assert queue.run_due() == 0
    clock.now += 0.1
    assert queue.run_due() == 1
    assert published == ["U1", "U1"]


def test_a_person_who_just_opened_their_home_waits_too() -> None:
    queue, published, clock = _queue(interval=2.0)
    queue.published("U1")
    assert published == []
    queue.changed({"U1"})
    assert queue.run_due() == 0
    clock.now += 2.0
    assert queue.run_due() == 1


def test_past_the_bound_marks_are_dropped_and_counted() -> None:
    queue, published, _ = _queue(max_due=2)
    queue.changed(["U1", "U2", "U3", "U4"])
    assert queue.dropped == 2
    assert queue.run_due() == 2
    assert published == ["U1", "U2"]


def test_a_failing_publish_does_not_stop_the_others() -> None:
    published: list[str] = []

    def publish(user: str) -> None:
        if user == "U1":
            raise RuntimeError("slack is down")
        published.append(user)

    queue = RefreshQueue(publish, interval=0.0)
    queue.changed(["U1", "U2"])
    assert queue.run_due() == 2
    assert published == ["U2"]


def test_the_worker_publishes_in_the_background() -> None:
    done = threading.Event()
    queue = RefreshQueue(lambda _user: done.set(), interval=0.01)
    queue.start()
    try:
        queue.changed({"U1"})
        assert done.wait(5)
    finally:
        queue.close()
