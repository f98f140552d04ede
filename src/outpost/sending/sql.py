"""The acceptance pipeline's statements (run through :mod:`outpost.fastsql`)."""

from __future__ import annotations

from outpost.fastsql import Statement, statement

# Everything the checks need, in one round trip: the sender of each request (by token
# hash, or by account id for SMTP), the named sender domains of those accounts and which of
# the named recipients those accounts' suppression lists hold. ``kind`` tells the rows
# apart: 0 sender, 1 domain, 2 suppressed address.
SENDERS = statement(
    """
    WITH senders AS (
        SELECT t.token_hash AS token_hash, t.id AS token_id, a.id AS account_id,
               t.ip_allowlist AS token_ips, t.last_used_at AS last_used_at, a.status AS status,
               a.ip_allowlist AS ip_allowlist, a.suppression_enabled AS suppression_enabled,
               o.status AS org_status
        FROM send_tokens t
        JOIN delivery_accounts a ON a.id = t.account_id
        JOIN organizations o ON o.id = a.org_id
        WHERE {hashes}
        UNION ALL
        SELECT NULL, NULL, a.id, NULL, NULL, a.status, a.ip_allowlist, a.suppression_enabled,
               o.status
        FROM delivery_accounts a
        JOIN organizations o ON o.id = a.org_id
        WHERE {ids}
    )
    SELECT 0, token_hash, token_id, account_id, token_ips, last_used_at, status, ip_allowlist,
           suppression_enabled, org_status
    FROM senders
    UNION ALL
    SELECT 1, d.name, d.id, ad.account_id, NULL, NULL, d.status, NULL, NULL, NULL
    FROM account_domains ad
    JOIN domains d ON d.id = ad.domain_id
    WHERE ad.account_id IN (SELECT account_id FROM senders) AND {names}
    UNION ALL
    SELECT 2, s.address, NULL, s.account_id, NULL, NULL, NULL, NULL, NULL, NULL
    FROM suppressions s
    WHERE s.account_id IN (SELECT account_id FROM senders WHERE suppression_enabled)
      AND {addresses}
    """,
    hashes="t.token_hash",
    ids="a.id",
    names="d.name",
    addresses="s.address",
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


def _from_plan(needed: str) -> str:
    """Of ``needed`` messages, how many the plan still has."""
    return (
        f"CASE WHEN {_PLAN_LEFT} >= {needed} THEN {needed} "
        f"WHEN {_PLAN_LEFT} > 0 THEN {_PLAN_LEFT} ELSE 0 END"
    )


# Plan messages first, then extra; only if the account is enabled and has enough left.
RESERVE = Statement(
    f"""
    UPDATE delivery_accounts
    SET used = used + {_from_plan(":needed")},
        extra_used = extra_used + :needed - {_from_plan(":needed")},
        remaining = remaining - :needed,
        updated_at = :now
    WHERE id = :account_id AND status = 'enabled'
      AND {_PLAN_LEFT} + {_EXTRA_LEFT} >= :needed
    """
)

ACCOUNT_STATE = Statement(
    f"SELECT status, {_PLAN_LEFT} + {_EXTRA_LEFT} FROM delivery_accounts WHERE id = :account_id"
)

# SQLite: message ids are taken before inserting, so related rows need no RETURNING.
LAST_MESSAGE_ID = Statement("SELECT COALESCE(MAX(id), 0) FROM messages")

MESSAGE_COLUMNS = (
    "id", "account_id", "source", "request_id", "message_id", "mail_from",
    "sender_domain_id", "subject", "size", "tags", "meta", "created_at",
)  # fmt: skip
BODY_COLUMNS = ("message_id", "format", "content")
RECIPIENT_COLUMNS = (
    "message_id", "account_id", "address", "domain", "status", "attempts",
    "next_attempt_at", "created_at",
)  # fmt: skip

# PostgreSQL: a whole batch accepted in one statement, on a connection in autocommit, so
# one round trip and one commit: lock the accounts that need messages (in id order, as
# every writer does), and only if every one of them is enabled and has enough left,
# reserve them and write the messages, contents, recipients, events, webhook deliveries,
# daily counters, idempotency records and token use. Returns whether it did (``ok``).
#
# The rows come as one JSON document of arrays (``doc``: each row a JSON array, see
# ``pipeline._store_in_one_statement``) and the contents as one binary bytea array:
# psycopg spent more CPU adapting thirty array parameters than on the rest of a batch.
# Recipients and events name their message by its 1-based position.
STORE = Statement(
    f"""
    WITH doc AS MATERIALIZED (SELECT :doc::jsonb AS d),
    need AS MATERIALIZED (
        SELECT (v->>0)::int AS account_id, (v->>1)::int AS needed
        FROM doc, jsonb_array_elements(d->'need') AS v
    ),
    locked AS MATERIALIZED (
        SELECT a.id, n.needed, {_from_plan("n.needed")} AS from_plan,
               a.status = 'enabled' AND {_PLAN_LEFT} + {_EXTRA_LEFT} >= n.needed AS fits
        FROM delivery_accounts a
        JOIN need n ON n.account_id = a.id
        ORDER BY a.id
        FOR NO KEY UPDATE OF a
    ),
    verdict AS MATERIALIZED (
        SELECT count(*) FILTER (WHERE fits) = (SELECT count(*) FROM need) AS ok FROM locked
    ),
    reserved AS (
        UPDATE delivery_accounts a
        SET used = used + l.from_plan, extra_used = extra_used + l.needed - l.from_plan,
            remaining = remaining - l.needed,
            updated_at = :now
        FROM locked l
        WHERE a.id = l.id AND (SELECT ok FROM verdict)
    ),
    accepted AS MATERIALIZED (
        SELECT nextval('messages_id_seq') AS id, m.n, (m.v->>0)::int AS account_id,
               m.v->>1 AS source, m.v->>2 AS request_id, m.v->>3 AS message_id,
               m.v->>4 AS mail_from, (m.v->>5)::int AS domain_id, m.v->>6 AS subject,
               (m.v->>7)::int AS size, (m.v->8)::json AS tags, (m.v->9)::json AS meta,
               m.v->>10 AS format, c.content
        FROM doc, jsonb_array_elements(d->'messages') WITH ORDINALITY AS m(v, n)
        JOIN unnest(:contents::bytea[]) WITH ORDINALITY AS c(content, n) ON c.n = m.n
        WHERE (SELECT ok FROM verdict)
        ORDER BY m.n
    ),
    stored AS (
        INSERT INTO messages (id, account_id, source, request_id, message_id, mail_from,
                              sender_domain_id, subject, size, tags, meta, created_at)
        SELECT id, account_id, source, request_id, message_id, mail_from, domain_id, subject,
               size, tags, meta, :now
        FROM accepted
    ),
    contents AS (
        INSERT INTO message_bodies (message_id, format, content)
        SELECT id, format, content FROM accepted
    ),
    queued AS (
        INSERT INTO recipients (message_id, account_id, address, domain, status, attempts,
                                next_attempt_at, created_at)
        SELECT m.id, m.account_id, r.v->>1, r.v->>2, 'queued', 0, :now, :now
        FROM doc, jsonb_array_elements(d->'recipients') WITH ORDINALITY AS r(v, n)
        JOIN accepted m ON m.n = (r.v->>0)::int
        ORDER BY r.n
    ),
    noted AS (
        INSERT INTO events (account_id, message_id, type, address, details, created_at)
        SELECT m.account_id, m.id, e.v->>1, e.v->>2,
               json_build_object('message_id', m.message_id, 'source', m.source), :now
        FROM doc, jsonb_array_elements(d->'events') WITH ORDINALITY AS e(v, n)
        JOIN accepted m ON m.n = (e.v->>0)::int
        ORDER BY e.n
        RETURNING id, account_id, type
    ),
    notified AS (
        INSERT INTO webhook_deliveries (webhook_id, event_id, status, attempts, next_attempt_at,
                                        created_at)
        SELECT w.id, e.id, 'pending', 0, :now, :now
        FROM noted e
        JOIN webhooks w ON w.account_id = e.account_id AND w.enabled
        WHERE json_array_length(w.event_types) = 0 OR w.event_types::jsonb ? e.type
    ),
    counted AS (
        INSERT INTO daily_stats (account_id, day, sent, delivered, deferred, bounced,
                                 suppressed, expired)
        SELECT (v->>0)::int, :day, (v->>1)::int, 0, 0, 0, (v->>2)::int, 0
        FROM doc, jsonb_array_elements(d->'stats') AS v
        WHERE (SELECT ok FROM verdict)
        ON CONFLICT (account_id, day) DO UPDATE
        SET sent = daily_stats.sent + excluded.sent,
            suppressed = daily_stats.suppressed + excluded.suppressed
    ),
    remembered AS (
        INSERT INTO idempotency_records (account_id, key, request_hash, status_code, response,
                                         created_at)
        SELECT (v->>0)::int, v->>1, v->>2, 202, (v->3)::json, :now
        FROM doc, jsonb_array_elements(d->'keyed') AS v
        WHERE (SELECT ok FROM verdict)
    ),
    touched AS (
        UPDATE send_tokens SET last_used_at = :now
        WHERE id = ANY(ARRAY(SELECT jsonb_array_elements_text(d->'tokens')::int FROM doc))
          AND (SELECT ok FROM verdict)
    )
    SELECT ok FROM verdict
    """,
    binary=True,
)

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
