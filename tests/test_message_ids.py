"""Message-IDs and request ids Outpost makes: UUID version 7, ordered by time."""

from __future__ import annotations

import os
import time
import uuid

from outpost.message_ids import new_message_id, uuid7, uuid7_hex


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


def test_a_forked_process_makes_other_ids_than_its_parent() -> None:
    reading, writing = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its ids, then exit at once
        os.write(writing, " ".join(uuid7_hex() for _ in range(100)).encode())
        os._exit(0)
    os.close(writing)
    os.waitpid(pid, 0)
    with os.fdopen(reading) as pipe:
        theirs = {h[12:] for h in pipe.read().split()}
    ours = {uuid7_hex()[12:] for _ in range(100)}
    assert len(theirs) == 100 and not ours & theirs


def test_a_request_id_is_a_version_7_uuid() -> None:
    value = uuid7()
    assert str(uuid.UUID(value)) == value and uuid.UUID(value).version == 7
