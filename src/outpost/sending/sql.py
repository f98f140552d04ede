"""The acceptance pipeline's statements (run through :mod:`outpost.fastsql`)."""

from __future__ import annotations

from outpost.fastsql import Statement, statement

SENDERS_BY_TOKEN = statement(
    """
    SELECT t.token_hash, t.id, t.account_id, t.ip_allowlist, t.last_used_at,
           a.status, a.ip_allowlist, a.suppression_enabled, o.status
    FROM send_tokens t
    JOIN delivery_accounts a ON a.id = t.account_id
    JOIN organizations o ON o.id = a.org_id
    WHERE {hashes}
    """,
    hashes="t.token_hash",
)

SENDERS_BY_ACCOUNT = statement(
    """
    SELECT a.id, a.status, a.ip_allowlist, a.suppression_enabled, o.status
    FROM delivery_accounts a
    JOIN organizations o ON o.id = a.org_id
    WHERE {ids}
    """,
    ids="a.id",
)

SENDER_DOMAINS = statement(
    """
    SELECT ad.account_id, d.name, d.id, d.status
    FROM account_domains ad
    JOIN domains d ON d.id = ad.domain_id
    WHERE {ids} AND {names}
    """,
    ids="ad.account_id",
    names="d.name",
)

IDEMPOTENCY_RECORDS = statement(
    """
    SELECT id, account_id, key, request_hash, response, created_at
    FROM idempotency_records
    WHERE {ids} AND {keys}
    """,
    ids="account_id",
    keys="key",
)

DELETE_IDEMPOTENCY_RECORD = Statement("DELETE FROM idempotency_records WHERE id = :id")

INSERT_IDEMPOTENCY_RECORD = Statement(
    """
    INSERT INTO idempotency_records
        (account_id, key, request_hash, status_code, response, created_at)
    VALUES (:account_id, :key, :request_hash, :status_code, :response, :created_at)
    """
)

SUPPRESSED = statement(
    "SELECT address FROM suppressions WHERE account_id = :account_id AND {addresses}",
    addresses="address",
)

# Messages still usable now: a prepaid package or extra messages past their expiry count
# for nothing even before the expiry job has written that down.
_PLAN_LEFT = "CASE WHEN expires_at <= :now THEN 0 ELSE plan_messages - used END"
_EXTRA_LEFT = "CASE WHEN extra_expires_at <= :now THEN 0 ELSE extra_messages - extra_used END"
_FROM_PLAN = (
    f"CASE WHEN {_PLAN_LEFT} >= :needed THEN :needed "
    f"WHEN {_PLAN_LEFT} > 0 THEN {_PLAN_LEFT} ELSE 0 END"
)

# Plan messages first, then extra; only if the account is enabled and has enough left.
RESERVE = Statement(
    f"""
    UPDATE delivery_accounts
    SET used = used + {_FROM_PLAN},
        extra_used = extra_used + :needed - {_FROM_PLAN},
        remaining = remaining - :needed,
        updated_at = :now
    WHERE id = :account_id AND status = 'enabled'
      AND {_PLAN_LEFT} + {_EXTRA_LEFT} >= :needed
    """
)

ACCOUNT_STATE = Statement(
    f"SELECT status, {_PLAN_LEFT} + {_EXTRA_LEFT} FROM delivery_accounts WHERE id = :account_id"
)

# Message ids are taken before inserting, so related rows need no RETURNING round trip.
# On SQLite the transaction holds the write lock (BEGIN IMMEDIATE), so MAX(id) is ours.
NEXT_MESSAGE_ID = Statement(
    "SELECT COALESCE(MAX(id), 0) + 1 FROM messages",
    "SELECT nextval(pg_get_serial_sequence('messages', 'id')) FROM generate_series(1, :count)",
)

MESSAGE_COLUMNS = (
    "id", "account_id", "source", "request_id", "message_id", "mail_from",
    "sender_domain_id", "subject", "size", "tags", "meta", "created_at",
)  # fmt: skip
BODY_COLUMNS = ("message_id", "format", "content")
RECIPIENT_COLUMNS = (
    "message_id", "account_id", "address", "domain", "status", "attempts",
    "next_attempt_at", "created_at",
)  # fmt: skip

TOUCH_TOKENS = statement("UPDATE send_tokens SET last_used_at = :now WHERE {ids}", ids="id")

# SMTP submission's checks at MAIL FROM (address NULL) and RCPT TO (see smtp/checks.py).
SUBMITTER_STATE = Statement(
    """
    SELECT a.status, a.ip_allowlist, a.remaining, a.suppression_enabled,
           EXISTS (SELECT 1 FROM suppressions s
                   WHERE s.account_id = a.id AND s.address = :address)
    FROM delivery_accounts a
    WHERE a.id = :account_id
    """
)

# The same for many (account, address) pairs at once, on PostgreSQL.
SUBMITTER_STATES = """
    SELECT q.account_id, q.address, a.status, a.ip_allowlist, a.remaining,
           a.suppression_enabled,
           EXISTS (SELECT 1 FROM suppressions s
                   WHERE s.account_id = q.account_id AND s.address = q.address)
    FROM unnest(%(ids)s::bigint[], %(addresses)s::text[]) AS q(account_id, address)
    JOIN delivery_accounts a ON a.id = q.account_id
"""
