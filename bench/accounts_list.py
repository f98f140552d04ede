"""Accounts list latency on 100,000 accounts, through the real service function.

    python -m bench.accounts_list [--db sqlite|postgresql|both] [--accounts N] [--runs N]

Fills its own database (a temporary SQLite file; a PostgreSQL database named
``outpost_bench_accounts``, created and dropped here) with bulk inserts, then times list
pages for the operator, a reseller and a customer and writes p50/p95 per case to
``bench/results/accounts_list.json`` and ``.md``. Target: p95 < 50 ms on both databases.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import string
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from outpost.accounts.listing import list_accounts, status_counts
from outpost.accounts.models import AccountStatus, AccountType, DeliveryAccount
from outpost.accounts.schemas import AccountFilters
from outpost.db import Database
from outpost.domains.models import AccountDomain, Domain
from outpost.migrate import upgrade
from outpost.pagination import PageParams
from outpost.plans.models import Plan
from outpost.plans.service import seed_default_plans
from outpost.tenancy.models import Organization, OrgKind, Role
from outpost.tenancy.scope import Caller

PG_ADMIN_URL = os.environ.get("OUTPOST_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_DATABASE = "outpost_bench_accounts"
RESULTS = Path(__file__).parent / "results"
TARGET_P95_MS = 50.0
CHUNK = 10_000

WORDS = ["Hotel", "Spa", "Shop", "Newsletter", "Bookings", "Invoices", "Alerts", "Promo"]
WORDS += ["Restaurant", "Camping", "Tickets", "Clinic", "School", "Garage", "Bakery", "Gym"]
STATUSES = [AccountStatus.enabled] * 7 + [
    AccountStatus.disabled,
    AccountStatus.awaiting_payment,
    AccountStatus.blocked,
]


@dataclass
class World:
    """Who the cases act as."""

    operator: Caller
    reseller: Caller
    customer: Caller
    sample_username: str = ""
    reseller_customers: int = 0
    customer_accounts: int = 0


@dataclass
class Case:
    """One timed list request."""

    name: str
    caller: str
    params: dict[str, Any] = field(default_factory=dict)
    filters: dict[str, Any] = field(default_factory=dict)
    counts: bool = False


@contextmanager
def bench_database(kind: str) -> Iterator[Database]:
    """A fresh, migrated database of ``kind`` that is removed afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="outpost-bench-") as folder:
            db = Database(f"sqlite:///{folder}/bench.db")
            upgrade(db)
            try:
                yield db
            finally:
                db.dispose()
        return
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{PG_DATABASE}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    db = Database(f"{base}/{PG_DATABASE}")
    try:
        upgrade(db)
        yield db
    finally:
        db.dispose()
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')


def _orgs(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    result = session.execute(insert(Organization).returning(Organization.id), rows)
    return [row[0] for row in result]


def _username(rng: random.Random, n: int) -> str:
    # Unique by construction, random-looking like generate_username().
    tail = "".join(rng.choices(string.ascii_lowercase + string.digits, k=5))
    return f"{rng.choice(string.ascii_lowercase)}{n:06x}{tail}"


def fill(db: Database, accounts: int, resellers: int, customers: int, seed: int = 7) -> World:
    """Bulk-insert the operator, resellers, customers, accounts, domains and their links."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    with db.session() as session:
        seed_default_plans(session=session)
        plans = {p.code: p.id for p in session.scalars(select(Plan))}
        operator_id = _orgs(session, [{"kind": OrgKind.operator, "name": "Operator"}])[0]
        reseller_ids = _orgs(
            session,
            [
                {"kind": OrgKind.reseller, "parent_id": operator_id, "name": f"Reseller {n}"}
                for n in range(resellers)
            ],
        )
        parents = [operator_id] + reseller_ids * 9  # one customer in ten is the operator's own
        customer_ids = _orgs(
            session,
            [
                {"kind": OrgKind.customer, "parent_id": rng.choice(parents), "name": f"Cust {n}"}
                for n in range(customers)
            ],
        )
        domain_ids = {
            org_id: domain_id
            for org_id, domain_id in zip(
                customer_ids,
                session.execute(
                    insert(Domain).returning(Domain.id),
                    [
                        {
                            "org_id": org_id,
                            "name": f"c{org_id}.example",
                            "verification_token": "t",
                            "dkim_selector": "s",
                            "dkim_private_key": "k",
                            "dkim_public_key": "p",
                            "return_path_host": f"rp.c{org_id}.example",
                        }
                        for org_id in customer_ids
                    ],
                ).scalars(),
                strict=True,
            )
        }
        has_free: set[int] = set()
        for start in range(0, accounts, CHUNK):
            rows = []
            for n in range(start, min(start + CHUNK, accounts)):
                org_id = rng.choice(customer_ids)
                plan = "free" if org_id not in has_free and rng.random() < 0.3 else None
                if plan:
                    has_free.add(org_id)
                plan = plan or rng.choice(["monthly", "monthly", "prepaid"])
                status = rng.choice(STATUSES)
                plan_messages = (
                    0 if status is AccountStatus.awaiting_payment else 10_000 * rng.randint(1, 100)
                )
                used = rng.randint(0, plan_messages)
                rows.append(
                    {
                        "org_id": org_id,
                        "description": f"{rng.choice(WORDS)} {rng.choice(WORDS).lower()} {n}",
                        "type": rng.choice([AccountType.transactional, AccountType.promotional]),
                        "username": _username(rng, n),
                        "smtp_password_hash": "x",
                        "status": status,
                        "plan_id": plans[plan],
                        "plan_messages": plan_messages,
                        "used": used,
                        "extra_messages": 0,
                        "extra_used": 0,
                        "remaining": plan_messages - used,
                        "suppression_enabled": True,
                        "ip_allowlist": [],
                        "created_at": now - timedelta(minutes=accounts - n),
                        "updated_at": now,
                    }
                )
            ids = session.execute(insert(DeliveryAccount).returning(DeliveryAccount.id), rows)
            links = [
                {"account_id": account_id, "domain_id": domain_ids[row["org_id"]]}
                for account_id, row in zip(ids.scalars(), rows, strict=True)
                if rng.random() < 0.5
            ]
            session.execute(insert(AccountDomain), links)
        session.execute(text("ANALYZE"))
        busiest_reseller = session.execute(
            select(Organization.parent_id, func.count())
            .where(Organization.kind == OrgKind.customer, Organization.parent_id != operator_id)
            .group_by(Organization.parent_id)
            .order_by(func.count().desc())
            .limit(1)
        ).one()
        busiest_customer = session.execute(
            select(DeliveryAccount.org_id, func.count())
            .group_by(DeliveryAccount.org_id)
            .order_by(func.count().desc())
            .limit(1)
        ).one()
        sample = session.scalar(
            select(DeliveryAccount.username).where(DeliveryAccount.id == accounts // 2)
        )
    return World(
        operator=Caller(operator_id, OrgKind.operator, Role.owner),
        reseller=Caller(busiest_reseller[0], OrgKind.reseller, Role.owner),
        customer=Caller(busiest_customer[0], OrgKind.customer, Role.owner),
        sample_username=sample or "",
        reseller_customers=busiest_reseller[1],
        customer_accounts=busiest_customer[1],
    )


def settle(db: Database) -> None:
    """Bring a bulk-loaded database to the steady state a running Outpost keeps it in.

    PostgreSQL: statistics and the visibility map (autovacuum's work). SQLite: the write-
    ahead log copied into the database file, as the acceptance writer's checkpointer does.
    """
    if db.dialect == "sqlite":
        raw = db.engine.raw_connection()  # outside a transaction, which would block it
        try:
            raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[union-attr]
        finally:
            raw.close()
        return
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE delivery_accounts, account_domains, organizations"))


def cases(world: World, accounts: int) -> list[Case]:
    """The timed requests: filters, text search, sorting and deep pages for each caller."""
    last_page = accounts // 25
    fragment = world.sample_username[1:7]
    return [
        Case("first page", "operator"),
        Case("status enabled", "operator", {"status": "enabled"}),
        Case("status wait_pay", "operator", {"status": "wait_pay"}),
        Case("type + plan", "operator", {}, {"type": "promotional", "plan": "monthly"}),
        Case("remaining range", "operator", {}, {"remaining_from": 1000, "remaining_to": 5000}),
        Case("query common word", "operator", {"query": "hotel"}),
        Case("query username", "operator", {"query": fragment}),
        Case("sort remaining desc", "operator", {"sort_field": "remaining", "sort": "desc"}),
        Case("sort description", "operator", {"sort_field": "description"}),
        Case(
            "enabled, sort remaining", "operator", {"status": "enabled", "sort_field": "remaining"}
        ),
        Case("deep page", "operator", {"page": last_page // 2}),
        Case("last page", "operator", {"page": last_page}),
        Case("status counts", "operator", counts=True),
        Case("first page", "reseller"),
        Case("status enabled", "reseller", {"status": "enabled"}),
        Case("type + plan", "reseller", {}, {"type": "transactional", "plan": "prepaid"}),
        Case("query common word", "reseller", {"query": "spa"}),
        Case("sort remaining desc", "reseller", {"sort_field": "remaining", "sort": "desc"}),
        Case("deep page", "reseller", {"page": 100}),
        Case("status counts", "reseller", counts=True),
        Case("first page", "customer"),
        Case("status disabled", "customer", {"status": "disabled"}),
        Case("query common word", "customer", {"query": "shop"}),
        Case("sort description", "customer", {"sort_field": "description"}),
    ]


def _request(db: Database, world: World, case: Case) -> Callable[[], object]:
    caller = getattr(world, case.caller)
    filters = AccountFilters(**case.filters)

    def run() -> object:
        with db.session() as session:
            if case.counts:
                return status_counts(session=session, caller=caller, filters=filters)
            params = PageParams(**case.params)
            page = list_accounts(session=session, caller=caller, params=params, filters=filters)
            return page.items

    return run


def measure(db: Database, world: World, accounts: int, runs: int) -> list[dict[str, Any]]:
    """p50/p95 in milliseconds for every case."""
    results = []
    for case in cases(world, accounts):
        request = _request(db, world, case)
        for _ in range(3):
            request()
        timings = []
        for _ in range(runs):
            started = time.perf_counter()
            request()
            timings.append((time.perf_counter() - started) * 1000)
        timings.sort()
        p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
        results.append(
            {
                "caller": case.caller,
                "case": case.name,
                "params": {**case.params, **case.filters},
                "p50_ms": round(statistics.median(timings), 2),
                "p95_ms": round(p95, 2),
            }
        )
        p50 = results[-1]["p50_ms"]
        print(f"  {case.caller:9} {case.name:26} p50 {p50:7.2f} ms   p95 {p95:7.2f} ms")
    return results


def write_results(all_results: dict[str, Any]) -> None:
    """Merge into bench/results/accounts_list.json and rewrite the .md summary."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "accounts_list.json"
    merged = json.loads(path.read_text()) if path.exists() else {}
    merged.update(all_results)
    path.write_text(json.dumps(merged, indent=2) + "\n")
    lines = ["# Accounts list benchmark", "", f"Target: p95 < {TARGET_P95_MS:.0f} ms.", ""]
    for kind, run in merged.items():
        lines += [
            f"## {kind}",
            "",
            f"{run['accounts']:,} accounts, {run['customers']:,} customers, "
            f"{run['resellers']} resellers; {run['runs']} runs per case; {run['measured_at']}, "
            f"{run['machine']}. Reseller sees {run['reseller_customers']} customers; "
            f"customer has {run['customer_accounts']} accounts.",
            "",
            "| caller | case | p50 ms | p95 ms |",
            "| --- | --- | ---: | ---: |",
        ]
        lines += [
            f"| {r['caller']} | {r['case']} | {r['p50_ms']:.2f} | {r['p95_ms']:.2f}"
            f"{' ⚠' if r['p95_ms'] >= TARGET_P95_MS else ''} |"
            for r in run["cases"]
        ]
        lines.append("")
    (RESULTS / "accounts_list.md").write_text("\n".join(lines))


def _machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"


def main() -> None:
    """Run the benchmark on the chosen databases."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=2_000)
    parser.add_argument("--resellers", type=int, default=20)
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    results: dict[str, Any] = {}
    for kind in kinds:
        with bench_database(kind) as db:
            started = time.perf_counter()
            world = fill(db, args.accounts, args.resellers, args.customers)
            settle(db)
            elapsed = time.perf_counter() - started
            print(f"{kind}: filled {args.accounts:,} accounts in {elapsed:.1f} s")
            results[kind] = {
                "accounts": args.accounts,
                "customers": args.customers,
                "resellers": args.resellers,
                "runs": args.runs,
                "reseller_customers": world.reseller_customers,
                "customer_accounts": world.customer_accounts,
                "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "machine": _machine(),
                "cases": measure(db, world, args.accounts, args.runs),
            }
    write_results(results)
    slow = [
        f"{kind} {r['caller']} {r['case']}"
        for kind, run in results.items()
        for r in run["cases"]
        if r["p95_ms"] >= TARGET_P95_MS
    ]
    print("all cases under target" if not slow else f"over {TARGET_P95_MS} ms: {', '.join(slow)}")


if __name__ == "__main__":
    main()
