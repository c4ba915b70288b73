"""One store at a time per SOP instance: claims taken by worker threads, waited for on the event loop."""

from __future__ import annotations

import asyncio
import multiprocessing
import threading
import time
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
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


def test_a_claimed_instance_cannot_be_claimed_again_until_released(tmp_path: Path) -> None:
    claims = Claims(tmp_path / "claims.lock")
    assert claims.try_claim(SOP)
    assert not claims.try_claim(SOP)
    assert claims.try_claim("1.2.3.5")
    claims.release(SOP)
    assert claims.try_claim(SOP)


def test_waiting_stores_get_the_claim_in_the_order_they_asked(tmp_path: Path) -> None:
    _on_own_loop(_waiting_stores_get_the_claim_in_the_order_they_asked(tmp_path / "claims.lock"))


async def _waiting_stores_get_the_claim_in_the_order_they_asked(lock_file: Path) -> None:
    claims = Claims(lock_file)
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


def test_a_worker_thread_releasing_wakes_the_store_waiting_on_the_loop(tmp_path: Path) -> None:
    _on_own_loop(_a_worker_thread_releasing_wakes_the_store_waiting_on_the_loop(tmp_path / "claims.lock"))


async def _a_worker_thread_releasing_wakes_the_store_waiting_on_the_loop(lock_file: Path) -> None:
    claims = Claims(lock_file)
    assert await asyncio.to_thread(claims.try_claim, SOP)
    waiter = asyncio.create_task(claims.claim(SOP))
    await _settle()
    assert not waiter.done()
    await asyncio.to_thread(claims.release, SOP)
    await asyncio.wait_for(waiter, 5)
    assert not claims.try_claim(SOP)


def test_a_cancelled_waiter_never_holds_the_claim(tmp_path: Path) -> None:
    _on_own_loop(_a_cancelled_waiter_never_holds_the_claim(tmp_path / "claims.lock"))


async def _a_cancelled_waiter_never_holds_the_claim(lock_file: Path) -> None:
    claims = Claims(lock_file)
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


def test_a_waiter_cancelled_while_the_claim_is_handed_to_it_passes_it_on(tmp_path: Path) -> None:
    _on_own_loop(_a_waiter_cancelled_while_the_claim_is_handed_to_it_passes_it_on(tmp_path / "claims.lock"))


async def _a_waiter_cancelled_while_the_claim_is_handed_to_it_passes_it_on(lock_file: Path) -> None:
    claims = Claims(lock_file)
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


def test_only_one_of_many_threads_claims_at_a_time(tmp_path: Path) -> None:
    claims = Claims(tmp_path / "claims.lock")
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


def _hold_in_another_process(lock_file: Path, key: str, held: Any, release: Any) -> None:
    claims = Claims(lock_file)
    assert claims.try_claim(key)
    held.set()
    release.wait(30)
    claims.release(key)


def test_an_instance_claimed_by_another_process_waits_for_its_release(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    held, release = context.Event(), context.Event()
    other = context.Process(target=_hold_in_another_process, args=(tmp_path / "claims.lock", SOP, held, release))
    other.start()
    try:
        assert held.wait(30)
        _on_own_loop(_an_instance_claimed_by_another_process_waits_for_its_release(tmp_path / "claims.lock", release))
    finally:
        release.set()
        other.join(30)
    assert other.exitcode == 0


async def _an_instance_claimed_by_another_process_waits_for_its_release(lock_file: Path, release: Any) -> None:
    claims = Claims(lock_file)
    assert not claims.try_claim(SOP)
    assert claims.try_claim("1.2.3.5")  # other instances are free
    waiter = asyncio.create_task(claims.claim(SOP))
    await asyncio.sleep(0.3)
    assert not waiter.done()
    release.set()
    await asyncio.wait_for(waiter, 10)
    claims.release(SOP)
    claims.release("1.2.3.5")


def test_a_claim_handed_over_inside_a_process_keeps_other_processes_out(tmp_path: Path) -> None:
    _on_own_loop(_a_claim_handed_over_inside_a_process_keeps_other_processes_out(tmp_path / "claims.lock"))


async def _a_claim_handed_over_inside_a_process_keeps_other_processes_out(lock_file: Path) -> None:
    here, elsewhere = Claims(lock_file), Claims(lock_file)  # two processes' claims: separate lock descriptors
    assert here.try_claim(SOP)
    waiter = asyncio.create_task(here.claim(SOP))
    await _settle()
    here.release(SOP)
    await asyncio.wait_for(waiter, 5)
    assert not elsewhere.try_claim(SOP)  # the claim passed on inside `here`, its lock with it
    here.release(SOP)
    assert elsewhere.try_claim(SOP)
    elsewhere.release(SOP)


def test_a_store_refused_by_another_process_hands_over_to_a_waiter_that_then_waits_for_it(tmp_path: Path) -> None:
    _on_own_loop(_a_store_refused_by_another_process_hands_over(tmp_path / "claims.lock"))


async def _a_store_refused_by_another_process_hands_over(lock_file: Path) -> None:
    here, elsewhere = Claims(lock_file), Claims(lock_file)
    assert elsewhere.try_claim(SOP)
    assert not here.try_claim(SOP)
    waiter = asyncio.create_task(here.claim(SOP))
    await asyncio.sleep(0.3)
    assert not waiter.done()
    elsewhere.release(SOP)
    await asyncio.wait_for(waiter, 10)
    assert not elsewhere.try_claim(SOP)
    here.release(SOP)
    assert elsewhere.try_claim(SOP)
