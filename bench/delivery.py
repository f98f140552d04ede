"""Delivery benchmark: ``python -m bench.delivery`` writes bench/results/delivery.{json,md}.

What it measures, everything on loopback:

- end-to-end delivery rate of N queued Send API messages (composed and DKIM-signed by the
  workers) from the queue to an SMTP sink, with 1 and 2 worker processes, on SQLite and
  PostgreSQL; the rate is taken between the first and last arrival at the sink;
- the same for Postfix relaying N messages of the same size from its queue to the same sink
  (the reference; installed from Debian when missing);
- claim latency (one claim of a batch) with 10,000 and with 1,000,000 queued recipients.

Not a test: run it on a quiet machine. ``--messages 2000 --claim-sizes 10000,100000``
validates it quickly.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import func, insert, select, text
from tests.support.dns_server import DNSServer

from bench.postfix import Postfix, ensure_installed
from bench.sink import Sink
from outpost.accounts.models import AccountStatus, AccountType, DeliveryAccount
from outpost.db import Database, utcnow
from outpost.delivery.compose import compose
from outpost.delivery.queue import claim_due_recipients
from outpost.domains.models import Domain, DomainStatus
from outpost.migrate import upgrade
from outpost.plans.service import get_plan, seed_default_plans
from outpost.security import encrypt_secret
from outpost.sending.models import (
    BodyFormat,
    Message,
    MessageBody,
    MessageSource,
    Recipient,
    RecipientStatus,
)
from outpost.tenancy.models import Organization, OrgKind

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
SECRET = "bench-secret-not-for-production"
PG_ADMIN = os.environ.get("OUTPOST_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
SINK_DOMAIN = "sink.test"
TEXT = "Hello {n},\n\nYour order has shipped. " + "Lorem ipsum dolor sit amet. " * 20 + "\n"
HTML = "<html><body><p>Hello {n},</p><p>Your order has shipped.</p>" + "<p>Lorem.</p>" * 20


def database_url(kind: str, folder: Path) -> str:
    """A fresh, empty database of ``kind``."""
    if kind == "sqlite":
        path = folder / f"bench-{uuid.uuid4().hex[:6]}.db"
        return f"sqlite:///{path}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute('DROP DATABASE IF EXISTS "outpost_bench" WITH (FORCE)')
        conn.execute('CREATE DATABASE "outpost_bench"')
    base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/outpost_bench"


def prepare(kind: str, folder: Path) -> tuple[Database, int, int]:
    """A migrated database with one operator, one account and one DKIM-keyed domain."""
    db = Database(database_url(kind, folder))
    upgrade(db)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = base64.b64encode(
        key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    ).decode()
    with db.session() as session:
        operator = Organization(kind=OrgKind.operator, name="Bench")
        session.add(operator)
        session.flush()
        seed_default_plans(session=session)
        account = DeliveryAccount(
            org_id=operator.id,
            description="bench",
            type=AccountType.transactional,
            username="bench" + uuid.uuid4().hex[:8],
            smtp_password_hash="x",
            status=AccountStatus.enabled,
            plan_id=get_plan(session=session, code="monthly").id,
        )
        domain = Domain(
            org_id=operator.id,
            name="sender.bench.test",
            status=DomainStatus.verified,
            verification_token="t",
            dkim_selector="bench",
            dkim_private_key=encrypt_secret(SECRET, pem),
            dkim_public_key=public,
            return_path_host="rp.sender.bench.test",
            verified_at=utcnow(),
        )
        session.add_all([account, domain])
        session.flush()
        return db, account.id, domain.id


def queue(db: Database, account_id: int, domain_id: int, n: int) -> int:
    """Queue ``n`` Send API messages of one recipient each; returns the size on the wire."""
    now = utcnow()
    with db.session() as session:
        for start in range(0, n, 5000):
            messages, bodies, recipients = [], [], []
            for i in range(start + 1, min(start + 5000, n) + 1):
                message_id = f"{uuid.uuid4()}@sender.bench.test"
                content = json.dumps(
                    {
                        "from": {"address": "orders@sender.bench.test", "name": "Bench Shop"},
                        "to": f"user{i}@{SINK_DOMAIN}",
                        "subject": f"Your order #{i}",
                        "text_body": TEXT.format(n=i),
                        "html_body": HTML.format(n=i),
                        "headers": {"List-Unsubscribe": "<mailto:u@sender.bench.test>"},
                        "message_id": message_id,
                        "date": now.isoformat(),
                    }
                ).encode()
                messages.append(
                    {
                        "id": i,
                        "account_id": account_id,
                        "source": MessageSource.api,
                        "request_id": str(uuid.uuid4()),
                        "message_id": message_id,
                        "mail_from": "orders@sender.bench.test",
                        "sender_domain_id": domain_id,
                        "subject": f"Your order #{i}",
                        "size": len(content),
                        "tags": [],
                        "meta": {},
                        "created_at": now,
                    }
                )
                bodies.append({"message_id": i, "format": BodyFormat.api_json, "content": content})
                recipients.append(
                    {
                        "message_id": i,
                        "account_id": account_id,
                        "address": f"user{i}@{SINK_DOMAIN}",
                        "domain": SINK_DOMAIN,
                        "status": RecipientStatus.queued,
                        "attempts": 0,
                        "next_attempt_at": now,
                        "created_at": now,
                    }
                )
            session.execute(insert(Message), messages)
            session.execute(insert(MessageBody), bodies)
            session.execute(insert(Recipient), recipients)
    # What goes on the wire: the composed MIME plus one RSA-2048 DKIM-Signature (~450 bytes).
    return len(compose(content)) + 450


def worker_env(db: Database, dns: DNSServer, sink_port: int, folder: Path) -> dict[str, str]:
    """The environment of an ``outpost worker`` process for this run."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OUTPOST_")}
    env.update(
        {
            "OUTPOST_CONFIG": str(folder / "none.toml"),
            "OUTPOST_DATA_DIR": str(folder),
            "OUTPOST_DATABASE_URL": db.url,
            "OUTPOST_SECRET_KEY": SECRET,
            "OUTPOST_HOSTNAME": "outpost.bench.test",
            "OUTPOST_DNS_RESOLVER": dns.address,
            "OUTPOST_DELIVERY_PORT": str(sink_port),
        }
    )
    return env


def delivered(db: Database) -> int:
    """How many recipients are recorded as delivered."""
    with db.session() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(Recipient)
                .where(Recipient.status == RecipientStatus.delivered)
            )
            or 0
        )


def run_outpost(kind: str, workers: int, n: int, sink: Sink, dns: DNSServer) -> dict[str, Any]:
    """Deliver ``n`` queued messages with ``workers`` processes; the measured rates."""
    with tempfile.TemporaryDirectory(prefix="outpost-bench-") as tmp:
        folder = Path(tmp)
        db, account_id, domain_id = prepare(kind, folder)
        size = queue(db, account_id, domain_id, n)
        sink.reset()
        env = worker_env(db, dns, sink.port, folder)
        log = (folder / "workers.log").open("wb")
        started = time.monotonic()
        processes = [
            subprocess.Popen(
                [sys.executable, "-c", "from outpost.cli import main; main()", "worker"],
                env=env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            for _ in range(workers)
        ]
        try:
            arrived = sink.wait_for(n, timeout=max(600.0, n / 5))
            while delivered(db) < n and time.monotonic() - started < 900:
                time.sleep(0.1)
            recorded_at = time.monotonic()
        finally:
            for process in processes:
                process.send_signal(signal.SIGTERM)
            for process in processes:
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()
            log.close()
        result = {
            "system": "outpost",
            "database": kind,
            "workers": workers,
            "messages": n,
            "wire_size": size,
            "all_arrived": arrived,
            "received_by_sink": sink.received(),
            "recorded_delivered": delivered(db),
            "rate_at_sink": round(sink.rate(), 1),
            "rate_including_startup_and_recording": round(n / (recorded_at - started), 1),
        }
        db.dispose()
        return result


def run_postfix(n: int, size: int, sink: Sink) -> dict[str, Any]:
    """Postfix relaying ``n`` held messages of ``size`` bytes to the same sink."""
    if not ensure_installed():
        return {"system": "postfix", "skipped": "postfix could not be installed"}
    instance = Postfix(sink.port)
    try:
        try:
            instance.start()
        except (OSError, subprocess.CalledProcessError) as exc:
            return {"system": "postfix", "skipped": f"postfix did not start: {exc}"}
        instance.inject(n, size)
        deadline = time.monotonic() + 600
        while instance.held() < n and time.monotonic() < deadline:
            time.sleep(0.2)
        sink.reset()
        instance.release()
        arrived = sink.wait_for(n, timeout=max(600.0, n / 5))
        return {
            "system": "postfix",
            "messages": n,
            "message_size": size,
            "all_arrived": arrived,
            "received_by_sink": sink.received(),
            "rate_at_sink": round(sink.rate(), 1),
        }
    finally:
        instance.stop()


def _bulk_recipients(db: Database, account_id: int, domain_id: int, upto: int) -> None:
    """Grow the queue to ``upto`` due recipients of one message, generated in the database."""
    with db.session() as session:
        seeded = session.get(Message, 1) is not None
    if not seeded:
        queue(db, account_id, domain_id, 1)
    with db.session() as session:
        have = int(session.scalar(select(func.count()).select_from(Recipient)) or 0)
        if db.dialect == "sqlite":
            session.execute(
                text(
                    "WITH RECURSIVE c(x) AS (SELECT :first UNION ALL SELECT x + 1 FROM c "
                    "WHERE x < :last) INSERT INTO recipients (message_id, account_id, address, "
                    "domain, status, attempts, next_attempt_at, created_at) SELECT 1, :account, "
                    "'r' || x || '@d' || (x % 1000) || '.test', 'd' || (x % 1000) || '.test', "
                    "'queued', 0, strftime('%Y-%m-%d %H:%M:%f', 'now', '-' || (x % 86400) || "
                    "' seconds'), strftime('%Y-%m-%d %H:%M:%f', 'now') FROM c"
                ),
                {"first": have + 1, "last": upto, "account": account_id},
            )
        else:
            session.execute(
                text(
                    "INSERT INTO recipients (message_id, account_id, address, domain, status, "
                    "attempts, next_attempt_at, created_at) SELECT 1, :account, "
                    "'r' || x || '@d' || (x % 1000) || '.test', 'd' || (x % 1000) || '.test', "
                    "'queued', 0, now() - (x % 86400) * interval '1 second', now() "
                    "FROM generate_series(CAST(:first AS bigint), CAST(:last AS bigint)) AS x"
                ),
                {"first": have + 1, "last": upto, "account": account_id},
            )
    with db.engine.begin() as conn:
        conn.execute(text("ANALYZE"))


def claim_latency(db: Database, samples: int = 50, batch: int = 100) -> float:
    """Median milliseconds of one claim of ``batch`` recipients (rolled back each time)."""
    timings = []
    for sample in range(samples + 5):
        with db.sessions() as session:
            began = time.perf_counter()
            claimed = claim_due_recipients(
                session=session, worker_id="bench", limit=batch, lease=timedelta(minutes=10)
            )
            if sample >= 5:  # the first few warm the caches
                timings.append((time.perf_counter() - began) * 1000)
            assert len(claimed) == batch
            session.rollback()
    return round(statistics.median(timings), 2)


def run_claims(kind: str, sizes: list[int]) -> dict[str, Any]:
    """Claim latency for each queue size, growing one queue."""
    with tempfile.TemporaryDirectory(prefix="outpost-bench-") as tmp:
        db, account_id, domain_id = prepare(kind, Path(tmp))
        result: dict[str, Any] = {"database": kind, "batch": 100, "median_ms": {}}
        for size in sorted(sizes):
            _bulk_recipients(db, account_id, domain_id, size)
            result["median_ms"][str(size)] = claim_latency(db)
        low, high = result["median_ms"][str(min(sizes))], result["median_ms"][str(max(sizes))]
        result["ratio"] = round(high / low, 2) if low else None
        db.dispose()
        return result


def write_results(results: dict[str, Any]) -> None:
    """bench/results/delivery.json and a readable delivery.md."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "delivery.json").write_text(json.dumps(results, indent=2) + "\n")
    lines = [
        "# Delivery benchmark",
        "",
        f"Run {results['when']} on {results['machine']}; {results['messages']} messages, "
        "one recipient each, DKIM RSA-2048 signed by the workers, to a loopback SMTP sink.",
        "",
        "| system | database | workers | msgs/s at sink | msgs/s incl. start + recording |",
        "| --- | --- | --- | --- | --- |",
    ]
    for run in results["delivery"]:
        if run.get("skipped"):
            lines.append(f"| {run['system']} | | | skipped: {run['skipped']} | |")
            continue
        lines.append(
            f"| {run['system']} | {run.get('database', '-')} | {run.get('workers', '-')} | "
            f"{run['rate_at_sink']} | {run.get('rate_including_startup_and_recording', '-')} |"
        )
    reference = next(
        (
            r["rate_at_sink"]
            for r in results["delivery"]
            if r["system"] == "postfix" and r.get("rate_at_sink")
        ),
        None,
    )
    if reference:
        lines += ["", "Relative to Postfix (target ≥ 1.0x):", ""]
        for run in results["delivery"]:
            if run["system"] == "outpost":
                ratio = run["rate_at_sink"] / reference
                lines.append(f"- {run['database']}, {run['workers']} worker(s): {ratio:.2f}x")
    lines += [
        "",
        "## Claim latency (median of 50 claims of 100 recipients, rolled back)",
        "",
        "| database | "
        + " | ".join(f"{s} queued" for s in results["claim_sizes"])
        + " | ratio (target ≤ 2x) |",
        "| --- |" + " --- |" * (len(results["claim_sizes"]) + 1),
    ]
    for claim in results["claims"]:
        cells = " | ".join(f"{claim['median_ms'][str(s)]} ms" for s in results["claim_sizes"])
        lines.append(f"| {claim['database']} | {cells} | {claim['ratio']}x |")
    (RESULTS / "delivery.md").write_text("\n".join(lines) + "\n")


def main() -> None:
    """Parse options, run every measurement, write the results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--claim-sizes", default="10000,1000000")
    parser.add_argument("--no-postfix", action="store_true")
    args = parser.parse_args()
    databases = args.databases.split(",")
    claim_sizes = [int(s) for s in args.claim_sizes.split(",") if s]
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": (
            f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        ),
        "messages": args.messages,
        "claim_sizes": sorted(claim_sizes),
        "delivery": [],
        "claims": [],
    }
    sink = Sink()
    dns = DNSServer().start()
    dns.zone.add(SINK_DOMAIN, "MX", f"10 mx.{SINK_DOMAIN}.")
    dns.zone.add(f"mx.{SINK_DOMAIN}", "A", "127.0.0.1")
    size = 0
    try:
        for kind in databases:
            for workers in [int(w) for w in args.workers.split(",")]:
                run = run_outpost(kind, workers, args.messages, sink, dns)
                size = size or run["wire_size"]
                print(json.dumps(run), flush=True)
                results["delivery"].append(run)
        if not args.no_postfix:
            run = run_postfix(args.messages, size or 2000, sink)
            print(json.dumps(run), flush=True)
            results["delivery"].append(run)
        for kind in databases:
            if claim_sizes:
                claims = run_claims(kind, claim_sizes)
                print(json.dumps(claims), flush=True)
                results["claims"].append(claims)
    finally:
        dns.stop()
        sink.stop()
    write_results(results)
    print(f"wrote {RESULTS / 'delivery.json'} and {RESULTS / 'delivery.md'}")


if __name__ == "__main__":
    main()
