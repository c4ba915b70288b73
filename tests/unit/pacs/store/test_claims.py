"""One store at a time per SOP instance: claims taken by worker threads, waited for on the event loop."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pacsbox.pacs.store.claims import Claims

SOP = "1.2.3.4"


def _on_own_loop(scenario: Coroutine[Any, Any, None]) -> None:
    """Run on an event loop of its own thread (the suite's browser keeps one in the main thread)."""
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, scenario).result()


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_a_claimed_instance_cannot_be_claimed_again_until_released() -> None:
    claims = Claims()
    assert claims.try_claim(SOP)
    assert not claims.try_claim(SOP)
    assert claims.try_claim("1.2.3.5")
    claims.release(SOP)
    assert claims.try_claim(SOP)


def test_waiting_stores_get_the_claim_in_the_order_they_asked() -> None:
    _on_own_loop(_waiting_stores_get_the_claim_in_the_order_they_asked())


async def _waiting_stores_get_the_claim_in_the_order_they_asked() -> None:
    claims = Claims()
    assert claims.try_claim(SOP)
    order: list[int] = []

    async def store(number: int) -> None:
        await claims.claim(SOP)
        order.append(number)

    waiting = [asyncio.create_task(store(n)) for n in range(3)]
    await _settle()
    assert order == []
    for expected in ([0], [0, 1], [0, 1, 2]):
        claims.release(SOP)
        await _settle()
        assert order == expected
    claims.release(SOP)
    await asyncio.gather(*waiting)
    assert claims.try_claim(SOP)


def test_a_worker_thread_releasing_wakes_the_store_waiting_on_the_loop() -> None:
    _on_own_loop(_a_worker_thread_releasing_wakes_the_store_waiting_on_the_loop())


async def _a_worker_thread_releasing_wakes_the_store_waiting_on_the_loop() -> None:
    claims = Claims()
    assert await asyncio.to_thread(claims.try_claim, SOP)
    waiter = asyncio.create_task(claims.claim(SOP))
    await _settle()
    assert not waiter.done()
    await asyncio.to_thread(claims.release, SOP)
    await asyncio.wait_for(waiter, 5)
    assert not claims.try_claim(SOP)


def test_a_cancelled_waiter_never_holds_the_claim() -> None:
    _on_own_loop(_a_cancelled_waiter_never_holds_the_claim())


async def _a_cancelled_waiter_never_holds_the_claim() -> None:
    claims = Claims()
    assert claims.try_claim(SOP)
    first = asyncio.create_task(claims.claim(SOP))
    second = asyncio.create_task(claims.claim(SOP))
    await _settle()
    first.cancel()
    await _settle()
    claims.release(SOP)
    await asyncio.wait_for(second, 5)
    assert first.cancelled()
    claims.release(SOP)
    assert claims.try_claim(SOP)


def test_a_waiter_cancelled_while_the_claim_is_handed_to_it_passes_it_on() -> None:
    _on_own_loop(_a_waiter_cancelled_while_the_claim_is_handed_to_it_passes_it_on())


async def _a_waiter_cancelled_while_the_claim_is_handed_to_it_passes_it_on() -> None:
    claims = Claims()
    assert claims.try_claim(SOP)
    first = asyncio.create_task(claims.claim(SOP))
    second = asyncio.create_task(claims.claim(SOP))
    await _settle()
    claims.release(SOP)  # the hand-over to `first` is scheduled, not yet run
    first.cancel()
    await asyncio.wait_for(second, 5)
    claims.release(SOP)
    await _settle()
    assert claims.try_claim(SOP)


def test_only_one_of_many_threads_claims_at_a_time() -> None:
    claims = Claims()
    inside, most, lock = [0], [0], threading.Lock()

    def work() -> None:
        for _ in range(2000):
            if claims.try_claim(SOP):
                with lock:
                    inside[0] += 1
                    most[0] = max(most[0], inside[0])
                time.sleep(0)  # another thread's turn while this one holds the claim
                with lock:
                    inside[0] -= 1
                claims.release(SOP)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most[0] == 1
    assert claims.try_claim(SOP)
