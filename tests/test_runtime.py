"""The process runtime's start-up: the garbage collector's and the interpreter lock's settings."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator

import pytest

from outpost.runtime import (
    GC_YOUNG_THRESHOLD,
    SWITCH_INTERVAL,
    settle_heap,
    share_the_interpreter,
)


@pytest.fixture
def restored_collector() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_start_up_heap_is_frozen_and_young_collections_are_rarer(
    restored_collector: None,
) -> None:
    older = gc.get_threshold()[1:]
    settle_heap()
    assert gc.get_freeze_count() > 10_000
    assert gc.get_threshold() == (GC_YOUNG_THRESHOLD, *older)
    garbage: list[object] = []
    garbage.append(garbage)  # a cycle made after start-up is still collected
    del garbage
    assert gc.collect() >= 1


def test_a_waiting_thread_gets_the_interpreter_lock_within_half_a_millisecond() -> None:
    default = sys.getswitchinterval()
    try:
        share_the_interpreter()
        assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL)
        assert default > SWITCH_INTERVAL
    finally:
        sys.setswitchinterval(default)
