"""The delivery loop's statements (run through :mod:`outpost.fastsql`).

A worker runs these for every batch: through SQLAlchemy Core they cost more CPU in
compiling, binding and result processing (per row: dates, enums) than the database spends
running them, on the thread the worker's event loop shares the GIL with.
"""

from __future__ import annotations

from outpost.fastsql import Statement, statement

_CLAIMED = "id, message_id, account_id, address, domain, attempts, created_at"

# The due condition is spelled like the partial index's predicate, and as literals rather
# than bound parameters, so both planners can prove ix_recipients_due applies.
CLAIM = Statement(
    f"""
    WITH due AS (
        SELECT recipients.id AS id FROM recipients
        WHERE recipients.status IN ('queued', 'deferred') AND recipients.next_attempt_at <= :now
        ORDER BY recipients.next_attempt_at LIMIT :limit
    )
    UPDATE recipients SET next_attempt_at = :lease_end, locked_by = :worker_id,
        locked_until = :lease_end
    FROM due WHERE recipients.id = due.id
    RETURNING {_CLAIMED}
    """,
    f"""
    WITH due AS (
        SELECT recipients.id AS id FROM recipients
        WHERE recipients.status IN ('queued', 'deferred') AND recipients.next_attempt_at <= :now
        ORDER BY recipients.next_attempt_at LIMIT :limit
        FOR UPDATE SKIP LOCKED
    )
    UPDATE recipients SET next_attempt_at = :lease_end, locked_by = :worker_id,
        locked_until = :lease_end
    FROM due WHERE recipients.id = due.id
    RETURNING {", ".join("recipients." + c for c in _CLAIMED.split(", "))}
    """,
)

MESSAGES = statement(
    """
    SELECT m.id, m.account_id, m.source, m.message_id, m.mail_from, m.sender_domain_id,
           b.format, b.content
    FROM messages m LEFT OUTER JOIN message_bodies b ON b.message_id = m.id
    WHERE {ids}
    """,
    ids="m.id",
)

ACCOUNTS = statement(
    "SELECT id, suppression_enabled, bounce_alert_email FROM delivery_accounts WHERE {ids}",
    ids="id",
)

DOMAINS = statement(
    """
    SELECT id, name, return_path_host, dkim_selector, dkim_private_key,
           dkim_ed25519_selector, dkim_ed25519_private_key
    FROM domains WHERE {ids}
    """,
    ids="id",
)

# Guarded by locked_by: a worker whose lease ran out (and whose recipients another worker
# took) changes nothing.
RECORD_OUTCOME = Statement(
    """
    UPDATE recipients SET status = :status, attempts = :attempts, next_attempt_at = :next,
        locked_by = :locked_by, locked_until = NULL, last_attempt_at = :last,
        remote_host = :host, smtp_code = :code, enhanced_code = :enhanced, reply = :reply,
        bounce_kind = :kind, finished_at = :finished
    WHERE id = :id AND locked_by = :worker_id
    """
)
