"""``outpost serve``, the README's first command: one process, everything on first start."""

from __future__ import annotations

import os
import re
import signal
import smtplib
import subprocess
import sys
import time
from pathlib import Path

import httpx2 as httpx
import pytest

from tests.support.dns_server import free_port


def _serve(data_dir: Path, ports: dict[str, int]) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OUTPOST_")}
    env.update(
        {
            "OUTPOST_CONFIG": str(data_dir / "none.toml"),
            "OUTPOST_DATA_DIR": str(data_dir),
            "OUTPOST_HTTP_PORT": str(ports["http"]),
            "OUTPOST_SMTP_SUBMISSION_PORT": str(ports["smtp"]),
            "OUTPOST_SMTP_TLS_PORT": str(ports["smtps"]),
            "OUTPOST_BOUNCE_PORT": str(ports["bounce"]),
            "OUTPOST_DNS_RESOLVER": "127.0.0.1:9",
        }
    )
    return subprocess.Popen(
        [sys.executable, "-c", "from outpost.cli import main; main()", "serve"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_for_http(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError("outpost serve did not answer")


def _stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    return output


@pytest.mark.slow
def test_first_start_creates_everything_and_serves_web_and_smtp(tmp_path: Path) -> None:
    ports = {name: free_port() for name in ("http", "smtp", "smtps", "bounce")}
    base = f"http://127.0.0.1:{ports['http']}"
    process = _serve(tmp_path, ports)
    try:
        _wait_for_http(f"{base}/api/openapi.json", process)
        with smtplib.SMTP("127.0.0.1", ports["smtp"], timeout=10) as smtp:
            assert "starttls" in smtp.ehlo()[1].decode().lower()
    finally:
        output = _stop(process)
    assert f"Control panel: {base}/" in output
    assert f"API docs:      {base}/api/docs" in output
    password = re.search(r"Password:\s+(\S+)", output)
    assert password is not None
    assert (tmp_path / "outpost.db").exists() and (tmp_path / "tls" / "cert.pem").exists()

    # The admin can log in to the panel with the printed password, and a second start
    # neither creates another admin nor prints a password again.
    process = _serve(tmp_path, ports)
    try:
        _wait_for_http(f"{base}/api/openapi.json", process)
        with httpx.Client(base_url=base) as client:
            page = client.get("/login")
            token = re.search(r'name="login_csrf" value="([^"]+)"', page.text)
            assert token is not None
            response = client.post(
                "/login",
                data={
                    "login_csrf": token.group(1),
                    "next": "/",
                    "email": "admin@localhost.localdomain",
                    "password": password.group(1),
                },
            )
            assert response.status_code == 303, response.text
            assert client.get("/api/v1/me").json()["role"] == "owner"
    finally:
        output = _stop(process)
    assert "Password:" not in output
