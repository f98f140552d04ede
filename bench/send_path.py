"""Acceptance throughput of the Send API and SMTP submission, beside bare baselines.

    python -m bench.send_path [--db sqlite|postgresql|both] [--seconds 10] [--rounds 3]

Each round measures, in the same run and with the same load generators:

- Send API, single messages: ``wrk`` posting a one-message ``/v1/send`` body to Outpost
  (``outpost web``) and to a bare FastAPI endpoint that parses the same JSON;
- Send API, 500-message batches: the same with a 500-message body (messages/s);
- SMTP: 20 concurrent sessions (STARTTLS, AUTH once, then one message after another) to
  Outpost (``outpost smtp``) and to a bare aiosmtpd server with the same TLS and AUTH.

Figures are medians over the rounds; a ratio to the baseline is the median of each round's
own ratio, its two figures measured one right after the other (the machine's speed drifts
by minutes). Results go to ``bench/results/send_path.{json,md}``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import ssl
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosmtplib
import orjson
import uvloop

from bench._common import (
    CpuClock,
    database_url,
    ensure_debian_package,
    free_port,
    median,
    outpost,
    process,
    python,
    write_results,
)
from outpost.accounts.models import AccountStatus, AccountType, DeliveryAccount
from outpost.config import Settings
from outpost.db import Database, utcnow
from outpost.domains.dns_records import return_path_host
from outpost.domains.keys import new_dkim_keys
from outpost.domains.models import AccountDomain, Domain, DomainStatus
from outpost.plans.service import get_plan
from outpost.security import hash_password, new_token
from outpost.setup import prepare
from outpost.tenancy.models import Organization, OrgKind
from outpost.tenancy.service import get_operator
from outpost.tokens.models import SendToken

SECRET = "bench-secret-key"
SMTP_PASSWORD = "bench-smtp-password-123"
SMTP_SESSIONS = 20
SINGLE_CONNECTIONS = 32
BATCH_CONNECTIONS = 4
BATCH_SIZE = 500


@dataclass(frozen=True)
class Fixture:
    """The sending account the benchmark uses."""

    token: str
    username: str


def prepare_database(url: str, data_dir: Path) -> Fixture:
    """Migrate and create a customer, an enabled account, a verified domain and a token."""
    settings = Settings(data_dir=data_dir, database_url=url, secret_key=SECRET)
    db = Database(url)
    prepare(settings, db, admin_password="bench-admin-password")
    token = new_token("ops_")
    with db.session() as session:
        customer = Organization(
            kind=OrgKind.customer, parent_id=get_operator(session=session).id, name="Bench"
        )
        session.add(customer)
        session.flush()
        account = DeliveryAccount(
            org_id=customer.id,
            description="bench",
            type=AccountType.transactional,
            username="benchuser0001",
            smtp_password_hash=hash_password(SMTP_PASSWORD),
            status=AccountStatus.enabled,
            plan_id=get_plan(session=session, code="monthly").id,
            plan_messages=1_000_000_000,
            remaining=1_000_000_000,
        )
        keys = new_dkim_keys(SECRET)
        domain = Domain(
            org_id=customer.id,
            name="example.test",
            status=DomainStatus.verified,
            verification_token="bench",
            dkim_selector=keys.rsa_selector,
            dkim_private_key=keys.rsa_private_key,
            dkim_public_key=keys.rsa_public_key,
            return_path_host=return_path_host("example.test"),
            verified_at=utcnow(),
        )
        session.add_all([account, domain])
        session.flush()
        session.add(AccountDomain(account_id=account.id, domain_id=domain.id))
        session.add(
            SendToken(
                account_id=account.id, name="bench", token_hash=token.hash, preview=token.preview
            )
        )
    db.dispose()
    return Fixture(token=token.value, username="benchuser0001")


def send_body(messages: int) -> bytes:
    """A ``/v1/send`` body of ``messages`` one-recipient messages."""
    message = {
        "from": "Shop <shop@example.test>",
        "to": "customer@dest.test",
        "subject": "Your order has shipped",
        "text_body": "Hello,\n\nyour order #1234 is on its way.\n\n-- Shop\n" * 4,
        "html_body": "<p>Hello,</p><p>your order <b>#1234</b> is on its way.</p>" * 4,
        "headers": {"X-Order": "1234"},
    }
    return orjson.dumps({"messages": [message] * messages})


@dataclass(frozen=True)
class Run:
    """One measured run: requests (or messages) per second and CPU per request (ms)."""

    rate: float
    cpu: dict[str, float]


def run_wrk(
    url: str, token: str, body: bytes, connections: int, seconds: int, server_pid: int
) -> Run:
    """Requests per second answered with 2xx by ``url``; any other answer is an error."""
    wrk = ensure_debian_package("wrk", "wrk")
    with tempfile.TemporaryDirectory() as folder:
        body_file = Path(folder) / "body.json"
        body_file.write_bytes(body)
        script = Path(folder) / "post.lua"
        script.write_text(
            'wrk.method = "POST"\n'
            'wrk.headers["Content-Type"] = "application/json"\n'
            f'wrk.headers["Authorization"] = "Bearer {token}"\n'
            f'local f = io.open("{body_file}", "rb")\n'
            "wrk.body = f:read('*all')\n"
            "f:close()\n"
        )
        subprocess.run(
            [wrk, "-t1", f"-c{connections}", "-d2s", "-s", str(script), url],
            check=True,
            capture_output=True,
        )
        before = CpuClock.read(server_pid, load_in_children=True)
        output = subprocess.run(
            [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "-s", str(script), url],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        after = CpuClock.read(server_pid, load_in_children=True)
    failures = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if failures:
        raise RuntimeError(f"{url} answered {failures.group(1)} requests with errors:\n{output}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if match is None:
        raise RuntimeError(f"cannot read wrk's output:\n{output}")
    rate = float(match.group(1))
    return Run(rate, before.per_message_ms(after, rate * seconds))


SMTP_MESSAGE = (
    b"From: Shop <shop@example.test>\r\nTo: customer@dest.test\r\nSubject: Your order\r\n"
    b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    + b"Hello, your order #1234 is on its way.\r\n"
    * 20
)


async def _smtp_session(
    port: int, context: ssl.SSLContext, username: str, stop_at: float, start_at: float
) -> int:
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, tls_context=context, start_tls=True)
    await client.connect()
    await client.login(username, SMTP_PASSWORD)
    counted = 0
    while (now := time.monotonic()) < stop_at:
        await client.sendmail("shop@example.test", ["customer@dest.test"], SMTP_MESSAGE)
        if time.monotonic() >= start_at and now >= start_at:
            counted += 1
    await client.quit()
    return counted


def run_smtp(port: int, cert: Path, username: str, seconds: int, server_pid: int) -> Run:
    """Messages per second accepted over ``SMTP_SESSIONS`` concurrent sessions."""
    context = ssl.create_default_context(cafile=str(cert))
    clocks: list[CpuClock] = []

    async def read_clocks(*moments: float) -> None:
        for moment in moments:
            await asyncio.sleep(moment - time.monotonic())
            clocks.append(CpuClock.read(server_pid, load_in_children=False))

    async def main() -> int:
        start_at = time.monotonic() + 2  # warm-up: logins, TLS, caches
        stop_at = start_at + seconds
        clocking = asyncio.create_task(read_clocks(start_at, stop_at))
        counts = await asyncio.gather(
            *(
                _smtp_session(port, context, username, stop_at, start_at)
                for _ in range(SMTP_SESSIONS)
            )
        )
        await clocking
        return sum(counts)

    rate = uvloop.run(main()) / seconds
    return Run(rate, clocks[0].per_message_ms(clocks[1], rate * seconds))


def measure(kind: str, seconds: int, rounds: int) -> dict[str, Any]:
    """Every figure for one database, as medians over ``rounds``."""
    figures: dict[str, list[float]] = {
        "api_single_outpost": [],
        "api_single_baseline": [],
        "api_batch_outpost": [],
        "api_batch_baseline": [],
        "smtp_outpost": [],
        "smtp_baseline": [],
    }
    with database_url(kind, "outpost_bench_send") as url, tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        fixture = prepare_database(url, data_dir)
        web_port, smtp_port, tls_port = free_port(), free_port(), free_port()
        base_http, base_smtp = free_port(), free_port()
        env = {
            "OUTPOST_DATA_DIR": str(data_dir),
            "OUTPOST_DATABASE_URL": url,
            "OUTPOST_SECRET_KEY": SECRET,
            "OUTPOST_HTTP_PORT": str(web_port),
            "OUTPOST_SMTP_SUBMISSION_PORT": str(smtp_port),
            "OUTPOST_SMTP_TLS_PORT": str(tls_port),
            "OUTPOST_SEND_API_RATE_LIMIT": "1000000000",
            "OUTPOST_SEND_API_RATE_BURST": "1000000000",
            "OUTPOST_SMTP_LOGIN_MAX_FAILURES": "1000000",
        }
        cert = data_dir / "tls" / "cert.pem"
        single, batch = send_body(1), send_body(BATCH_SIZE)
        cpu: dict[str, list[dict[str, float]]] = {name: [] for name in figures}

        def record(name: str, run: Run, messages_per_request: int = 1) -> None:
            figures[name].append(run.rate * messages_per_request)
            cpu[name].append({k: v / messages_per_request for k, v in run.cpu.items()})

        # Each Outpost figure is measured right beside its baseline (this machine's speed
        # drifts by minutes), and its ratio is taken within the round.
        for _ in range(rounds):
            with process(python("bench._baseline_http", str(base_http)), {}, base_http) as base:
                url_base = f"http://127.0.0.1:{base_http}/v1/send"
                record(
                    "api_batch_baseline",
                    run_wrk(url_base, "x", batch, BATCH_CONNECTIONS, seconds, base.pid),
                    BATCH_SIZE,
                )
                record(
                    "api_single_baseline",
                    run_wrk(url_base, "x", single, SINGLE_CONNECTIONS, seconds, base.pid),
                )
            with process(outpost("web"), env, web_port) as web:
                url_outpost = f"http://127.0.0.1:{web_port}/v1/send"
                token = fixture.token
                record(
                    "api_single_outpost",
                    run_wrk(url_outpost, token, single, SINGLE_CONNECTIONS, seconds, web.pid),
                )
                record(
                    "api_batch_outpost",
                    run_wrk(url_outpost, token, batch, BATCH_CONNECTIONS, seconds, web.pid),
                    BATCH_SIZE,
                )
            with process(outpost("smtp"), env, smtp_port) as smtp:
                username = fixture.username
                record("smtp_outpost", run_smtp(smtp_port, cert, username, seconds, smtp.pid))
            with process(
                python("bench._baseline_smtp", str(base_smtp), str(data_dir)), {}, base_smtp
            ) as base:
                record("smtp_baseline", run_smtp(base_smtp, cert, "anyone", seconds, base.pid))
    result: dict[str, Any] = {name: median(values) for name, values in figures.items()}
    result["rounds"] = {name: [round(v, 1) for v in values] for name, values in figures.items()}
    result["cpu_ms_per_message"] = {
        name: {part: round(statistics.median(r[part] for r in runs), 3) for part in runs[0]}
        for name, runs in cpu.items()
    }
    for name in ("api_single", "smtp"):
        ratios = [
            ours / base
            for ours, base in zip(
                figures[f"{name}_outpost"], figures[f"{name}_baseline"], strict=True
            )
        ]
        result[f"{name}_ratios"] = [round(r, 2) for r in ratios]
        result[f"{name}_ratio"] = round(statistics.median(ratios), 2)
    return result


def report(results: dict[str, dict[str, Any]], seconds: int, rounds: int) -> str:
    """The results as a Markdown table with the targets."""
    lines = [
        "# Send path acceptance throughput",
        "",
        f"{rounds} round(s) of {seconds} s per figure, medians; loopback, this machine.",
        "Each Outpost figure is measured right after (SMTP: right before) its baseline; a",
        "ratio is the median of the rounds' own ratios (listed in brackets).",
        "",
        "| database | measure | Outpost | baseline | ratio | target |",
        "| --- | --- | ---: | ---: | ---: | --- |",
    ]
    for kind, r in results.items():
        lines += [
            f"| {kind} | Send API, single messages (msgs/s) | {r['api_single_outpost']} | "
            f"{r['api_single_baseline']} | {r['api_single_ratio']} "
            f"({'/'.join(map(str, r['api_single_ratios']))}) | ≥ 0.5 × baseline |",
            f"| {kind} | Send API, 500-message batches (msgs/s) | {r['api_batch_outpost']} | "
            f"{r['api_batch_baseline']} | "
            f"{round(r['api_batch_outpost'] / r['api_batch_baseline'], 2)} | ≥ 5,000 msgs/s |",
            f"| {kind} | SMTP, 20 sessions (msgs/s) | {r['smtp_outpost']} | "
            f"{r['smtp_baseline']} | {r['smtp_ratio']} "
            f"({'/'.join(map(str, r['smtp_ratios']))}) | ≥ 0.5 × baseline |",
        ]
    lines += [
        "",
        "CPU per message (ms, medians) of the server under test, PostgreSQL's processes and the",
        "load generator (wrk, or the SMTP client), during the measured seconds; and the cores",
        "the target rate would take at Outpost's per-message costs: its own process (one",
        f"interpreter, so about one core at most) and everything (this machine: {os.cpu_count()}"
        " cores).",
        "",
        "| database | measure | Outpost | PostgreSQL | load | baseline | baseline load "
        "| target rate | Outpost at target | all at target |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for kind, r in results.items():
        cpu = r["cpu_ms_per_message"]
        for label, name, target in (
            ("Send API, single", "api_single", 0.5 * r["api_single_baseline"]),
            ("Send API, batches", "api_batch", 5000.0),
            ("SMTP", "smtp", 0.5 * r["smtp_baseline"]),
        ):
            ours, base = cpu[f"{name}_outpost"], cpu[f"{name}_baseline"]
            own, everything = target * ours["server"] / 1000, target * sum(ours.values()) / 1000
            lines.append(
                f"| {kind} | {label} | {ours['server']} | {ours['database']} | {ours['load']} | "
                f"{base['server']} | {base['load']} | {round(target)} | {own:.2f} | "
                f"{everything:.2f} |"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    results = {kind: measure(kind, args.seconds, args.rounds) for kind in kinds}
    data = {"seconds": args.seconds, "rounds": args.rounds, "results": results}
    write_results("send_path", data, report(results, args.seconds, args.rounds))


if __name__ == "__main__":
    main()
