"""Browser fixtures: the real app under uvicorn on loopback, driven by headless Chromium.

Chromium is Debian's (``/usr/bin/chromium``); ``scripts/test`` installs it when missing.
Every test gets a fresh browser context (no cookies) on a server started for its database.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Locator,
    Page,
    Playwright,
    sync_playwright,
)

from outpost.db import Database
from outpost.setup import DEFAULT_ADMIN_EMAIL
from outpost.tenancy.models import Role
from outpost.tenancy.service import get_operator
from tests.conftest import ADMIN_PASSWORD
from tests.factories import Factory, Tenant

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
USER_PASSWORD = "browser-password-123"


class LiveServer:
    """Uvicorn serving ``app`` from a background thread on a socket bound to a free port."""

    def __init__(self, app: FastAPI) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        config = uvicorn.Config(
            app, log_level="warning", access_log=False, lifespan="off", ws="none"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True
        )

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the live server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.socket.close()


@pytest.fixture
def live_server(app: FastAPI) -> Iterator[LiveServer]:
    with LiveServer(app) as server:
        yield server


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: run scripts/test, which installs Debian's chromium")
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
    )
    yield browser
    browser.close()


@pytest.fixture
def context(browser: Browser, live_server: LiveServer) -> Iterator[BrowserContext]:
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1360, "height": 900})
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    page = context.new_page()
    # An alert() would mean a script injected into a page ran.
    page.on("dialog", lambda dialog: pytest.fail(f"unexpected dialog: {dialog.message}"))
    # Script errors and Content-Security-Policy violations show up as console errors;
    # failed loads of the pages themselves (a 404 a test asks for) are expected.
    errors: list[str] = []
    page.on(
        "console",
        lambda message: (
            errors.append(message.text)
            if message.type == "error" and "Failed to load resource" not in message.text
            else None
        ),
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    assert errors == [], errors


def log_in(page: Page, email: str, password: str) -> None:
    """Log in through the form and wait for the home page."""
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/(\?.*)?$"))


def sidebar(page: Page, label: str) -> Locator:
    """A link of the sidebar's main navigation."""
    return page.get_by_role("navigation", name="Main").get_by_role("link", name=label, exact=True)


def facts(section: Locator) -> dict[str, str]:
    """The term → value pairs of the definition lists in ``section``."""
    pairs = section.locator("dl > div").evaluate_all(
        "divs => divs.map(d => [d.querySelector('dt').innerText, d.querySelector('dd').innerText])"
    )
    return {term.strip(): value.strip() for term, value in pairs}


def screenshot(page: Page, name: str) -> None:
    """Keep a picture of the page for people to look at (test-artifacts/, not committed)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("Promise.all(document.getAnimations().map(a => a.finished))")
    # A window as tall as the page, so fixed and sticky parts sit where a person sees them.
    viewport = page.viewport_size or {"width": 1360, "height": 900}
    height = int(page.evaluate("document.documentElement.scrollHeight"))
    page.set_viewport_size({"width": viewport["width"], "height": max(height, viewport["height"])})
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
    page.set_viewport_size(viewport)


@dataclass(frozen=True)
class Person:
    """A tenant and one of its users, ready to log in."""

    tenant: Tenant
    email: str
    password: str = USER_PASSWORD

    def log_in(self, page: Page) -> None:
        """Log this person in on ``page``."""
        log_in(page, self.email, self.password)


@pytest.fixture
def operator_admin(db: Database) -> Person:
    """The installation's first admin (operator owner); no API key made for it."""
    with db.session() as session:
        op = get_operator(session=session)
    return Person(Tenant(op.id, op.kind, op.name, {}), DEFAULT_ADMIN_EMAIL, ADMIN_PASSWORD)


@pytest.fixture
def person(factory: Factory) -> Callable[..., Person]:
    """Make a user in a tenant: ``person(tenant, "ana@example.com", Role.admin)``."""

    def make(tenant: Tenant, email: str, role: Role = Role.owner) -> Person:
        factory.user(tenant.org_id, email, USER_PASSWORD, role)
        return Person(tenant, email)

    return make
