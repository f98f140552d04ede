"""The Send API's 202 body, built once and also kept for idempotent replays."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from outpost.sending.submission import AcceptResult


def iso_millis(moment: datetime) -> str:
    """ISO-8601 UTC with milliseconds, e.g. ``2026-04-16T08:41:13.225Z`` (``moment`` in UTC)."""
    return moment.isoformat(timespec="milliseconds")[:23] + "Z"


def accepted_body(result: AcceptResult) -> dict[str, Any]:
    """``{"error_code": 0, "message": "OK", "request_id", "queued_messages", "messages", ...}``."""
    if result.replayed is not None:
        return result.replayed
    submitted_at = iso_millis(result.submitted_at)
    messages = []
    suppressed_total: list[str] = []
    for outcome in result.messages:
        suppressed_total.extend(outcome.suppressed)
        messages.append(
            {
                "error_code": 0,
                "message": "OK" if outcome.queued else "All recipients are suppressed",
                "request_id": result.request_id,
                "message_id": outcome.message_id,
                "submitted_at": submitted_at,
                "to": outcome.display_to,
                "queued_recipients": len(outcome.queued),
                "suppressed_recipients": outcome.suppressed,
            }
        )
    return {
        "error_code": 0,
        "message": "OK",
        "request_id": result.request_id,
        "queued_messages": sum(1 for m in result.messages if m.queued),
        "messages": messages,
        "suppression_summary": {
            "status": "checked" if result.suppression_checked else "ignored",
            "queued_recipients": result.queued_recipients,
            "suppressed_recipients": len(suppressed_total),
            "suppressed": suppressed_total,
        },
    }
