"""A key is claimed once, however many threads, retries or clicks ask for it."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from bot.core.db import SessionFactory
from bot.core.idempotency import IdempotencyStore
from tests.clock import Clock


@pytest.fixture
def store(sessions: SessionFactory, clock: Clock) -> IdempotencyStore:
    return IdempotencyStore(sessions, clock=clock)


def test_a_key_is_claimed_only_once(store: IdempotencyStore) -> None:
    assert store.claim("command:1", scope="/platform db create")
    assert not store.claim("command:1", scope="/platform db create")
    assert store.claim("command:2", scope="/platform db create")


def test_concurrent_claims_have_exactly_one_winner(sessions: SessionFactory) -> None:
    stores = [IdempotencyStore(sessions) for _ in range(16)]
    start = threading.Barrier(len(stores))

    def claim(store: IdempotencyStore) -> bool:
        start.wait()
        return store.claim("action:approve:1700000000.123", scope="approval")

    with ThreadPoolExecutor(max_workers=len(stores)) as pool:
        results = list(pool.map(claim, stores))
    assert results.count(True) == 1


def test_the_result_of_the_first_run_is_remembered(store: IdempotencyStore) -> None:
    store.claim("command:1", scope="s")
    assert store.result("command:1") is None
    store.remember("command:1", {"channel": "C1", "thread_ts": "1.2", "token": "xoxb-1-2-3"})
    assert store.result("command:1") == {"channel": "C1", "thread_ts": "1.2", "token": "[redacted]"}
    assert store.result("command:unknown") is None


def test_remembering_an_unclaimed_key_is_an_error(store: IdempotencyStore) -> None:
    with pytest.raises(LookupError):
        store.remember("never-claimed", {"a": "b"})


def test_keys_longer_than_the_column_are_still_distinct(store: IdempotencyStore) -> None:
    long_a, long_b = "a" * 300, "a" * 299 + "b"
    assert store.claim(long_a, scope="s")
    assert store.claim(long_b, scope="s")
    assert not store.claim(long_a, scope="s")
    store.remember(long_b, {"n": 2})
    assert store.result(long_b) == {"n": 2}


def test_prune_deletes_only_old_keys(store: IdempotencyStore, clock: Clock) -> None:
    store.claim("old", scope="s")
    clock.now += timedelta(days=2)
    store.claim("new", scope="s")
    assert store.prune(timedelta(days=1)) == 1
    assert store.claim("old", scope="s")
    assert not store.claim("new", scope="s")
