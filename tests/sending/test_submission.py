"""What the doors hand to ``accept`` crosses a pipe to the PostgreSQL writer intact."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime

from outpost.sending.models import BodyFormat, MessageSource
from outpost.sending.submission import (
    AcceptRequest,
    AcceptResult,
    Idempotency,
    MessageOutcome,
    OutgoingMessage,
)


def test_a_request_and_its_result_survive_pickling_field_for_field() -> None:
    request = AcceptRequest(
        source=MessageSource.api,
        client_ip="192.0.2.7",
        request_id="r-1",
        messages=[
            OutgoingMessage(
                message_id="m-1@example.test",
                mail_from="shop@example.test",
                sender_domain="example.test",
                recipients=["a@dest.test", "b@dest.test"],
                subject="Hello",
                content=b"{}",
                body_format=BodyFormat.api_json,
                display_to="a@dest.test",
                tags=["t"],
                meta={"k": 1},
            )
        ],
        token_hash="h" * 64,
        account_id=7,
        idempotency=Idempotency(key="k-1", request_hash="c" * 64),
    )
    result = AcceptResult(
        request_id="r-1",
        account_id=7,
        submitted_at=datetime(2026, 12, 6, 12, 0, tzinfo=UTC),
        messages=[MessageOutcome("m-1@example.test", "a@dest.test", ["a@dest.test"], ["b@x.test"])],
        suppression_checked=True,
        replayed={"error_code": 0},
    )
    for value in (request, result):
        assert pickle.loads(pickle.dumps(value)) == value  # noqa: S301 - our own bytes
