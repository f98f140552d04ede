"""Message-IDs Outpost makes: UUID version 7 in the sender's domain, ordered by time."""

from __future__ import annotations

import time
import uuid

from outpost.message_ids import new_message_id


def test_a_message_id_is_a_version_7_uuid_holding_the_time() -> None:
    before = time.time_ns() // 1_000_000
    local, _, domain = new_message_id("shop.example").partition("@")
    after = time.time_ns() // 1_000_000
    assert domain == "shop.example"
    value = uuid.UUID(local)
    assert str(value) == local
    assert value.version == 7 and value.variant == uuid.RFC_4122
    assert before <= value.int >> 80 <= after


def test_later_ids_sort_after_earlier_ones_and_none_repeat() -> None:
    earlier = [new_message_id("a.example") for _ in range(1000)]
    time.sleep(0.002)
    later = new_message_id("a.example")
    assert all(id_ < later for id_ in earlier)
    assert len(set(earlier)) == 1000
