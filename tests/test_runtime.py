"""The process runtime's start-up: the garbage collector's settings for serving."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from outpost.runtime import GC_YOUNG_THRESHOLD, settle_heap


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
