"""The panel over plain HTTP (no browser): CSRF, escaping, error pages, cookies, headers."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from httpx2 import Response

from outpost.app import create_app
from outpost.config import Settings
from outpost.db import Database
from outpost.setup import DEFAULT_ADMIN_EMAIL
from outpost.tenancy.models import OrgStatus, Role
from outpost.tenancy.schemas import OrganizationUpdate
from outpost.tenancy.scope import Caller
from outpost.tenancy.service import update_organization
from outpost.throttle import FailedLogins
from outpost.web.views import AREAS
from outpost.web.views.auth import safe_next
from tests.conftest import ADMIN_PASSWORD
from tests.factories import Factory

SAMPLE_PATH_VALUES = {
    "org_id": "2",
    "user_id": "1",
    "key_id": "1",
    "code": "monthly",
    "account_id": "1",
    "domain_id": "1",
    "order_id": "1",
    "token_id": "1",
}


def log_in(
    client: TestClient, email: str = DEFAULT_ADMIN_EMAIL, password: str = ADMIN_PASSWORD
) -> str:
    """Log in through the form; returns the session's CSRF token."""
    page = client.get("/login")
    login_csrf = re.search(r'name="login_csrf" value="([^"]+)"', page.text)
    assert login_csrf
    response = client.post(
        "/login",
        data={"email": email, "password": password, "login_csrf": login_csrf[1], "next": "/"},
    )
    assert response.status_code == 200, response.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', response.text)
    assert token
    return token[1]


def panel_posts() -> list[str]:
    """Every form target of the panel, with sample values for its path parameters."""
    paths = []
    for area in AREAS:
        for route in area.router.routes:
            if isinstance(route, APIRoute) and "POST" in route.methods and route.path != "/login":
                paths.append(route.path.format(**SAMPLE_PATH_VALUES))
    return paths


def test_every_form_target_refuses_a_missing_or_wrong_csrf_token(
    client: TestClient, factory: Factory
) -> None:
    factory.customer(None, "Target Ltd")
    token = log_in(client)
    targets = panel_posts()
    assert len(targets) >= 14
    for path in targets:
        for data in ({}, {"csrf_token": "wrong"}, {"csrf_token": token[:-1]}):
            response = client.post(path, data=data, follow_redirects=False)
            assert response.status_code == 403, (path, data)
            assert response.headers["content-type"].startswith("text/html")
            assert "This form has expired" in response.text
    # The session survived every refused logout.
    assert client.get("/", follow_redirects=False).status_code == 200


def test_the_csrf_token_belongs_to_the_session(client: TestClient, app: FastAPI) -> None:
    token = log_in(client)
    with TestClient(app) as other:
        other_token = log_in(other)
        assert other_token != token
        response = other.post("/api-keys/new", data={"csrf_token": token, "name": "x"})
        assert response.status_code == 403


def test_login_needs_its_own_form_token(client: TestClient) -> None:
    response = client.post(
        "/login",
        data={"email": DEFAULT_ADMIN_EMAIL, "password": ADMIN_PASSWORD, "login_csrf": "guess"},
    )
    assert response.status_code == 403
    assert "The login form expired" in response.text
    assert "outpost_session" not in client.cookies


def _try_login(client: TestClient, email: str, password: str) -> Response:
    page = client.get("/login")
    login_csrf = re.search(r'name="login_csrf" value="([^"]+)"', page.text)
    assert login_csrf
    data = {"email": email, "password": password, "login_csrf": login_csrf[1], "next": "/"}
    return client.post("/login", data=data, follow_redirects=False)


def test_failed_logins_are_throttled_per_address_and_email(
    app: FastAPI, client: TestClient
) -> None:
    app.state.panel_login_failures = FailedLogins(limit=3, window=900)
    for _ in range(3):
        assert _try_login(client, DEFAULT_ADMIN_EMAIL, "wrong password").status_code == 401
    # Now even the right password waits, and no session starts.
    refused = _try_login(client, DEFAULT_ADMIN_EMAIL, ADMIN_PASSWORD)
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 900
    assert "Too many failed logins. Try again in 15 minutes." in refused.text
    assert "outpost_session" not in client.cookies
    # The same address trying another e-mail waits too.
    assert _try_login(client, "someone@example.com", "guess").status_code == 429


def test_a_successful_login_is_not_throttled(app: FastAPI, client: TestClient) -> None:
    app.state.panel_login_failures = FailedLogins(limit=3, window=900)
    assert _try_login(client, DEFAULT_ADMIN_EMAIL, "wrong password").status_code == 401
    for _ in range(4):
        assert _try_login(client, DEFAULT_ADMIN_EMAIL, ADMIN_PASSWORD).status_code == 303


def test_the_json_api_accepts_the_session_with_the_csrf_header(client: TestClient) -> None:
    token = log_in(client)
    assert client.post("/api/v1/api-keys", json={"name": "from js"}).status_code == 403
    response = client.post(
        "/api/v1/api-keys", json={"name": "from js"}, headers={"X-CSRF-Token": token}
    )
    assert response.status_code == 201
    assert response.json()["resources"][0]["token"].startswith("opk_")


def test_values_are_escaped(client: TestClient, factory: Factory) -> None:
    factory.customer(None, '<script>alert("x")</script>')
    log_in(client)
    page = client.get("/organizations")
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.text
    assert "<script>alert" not in page.text
    page = client.get("/organizations?q=<b>bold</b>")
    assert 'value="&lt;b&gt;bold&lt;/b&gt;"' in page.text
    assert "No customers match “&lt;b&gt;bold&lt;/b&gt;”" in page.text
    assert "<b>bold</b>" not in page.text


def test_panel_paths_get_html_errors_and_api_paths_json(client: TestClient) -> None:
    missing = client.get("/no-such-page")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
    assert "Page not found" in missing.text
    assert "Log in" in missing.text  # nobody is logged in: the page without the sidebar

    api = client.get("/api/v1/no-such-thing")
    assert api.status_code == 404
    assert api.json()["message"] == "Not found"
    send = client.post("/v1/no-such-thing", json={})
    assert send.headers["content-type"].startswith("application/json")

    log_in(client)
    missing = client.get("/no-such-page")
    assert missing.status_code == 404
    assert 'aria-label="Main"' in missing.text  # logged in: inside the panel's layout
    bad = client.get("/organizations/not-a-number")
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("text/html")
    # The API answers the logged-in browser in JSON too.
    assert client.get("/api/v1/organizations/999").json()["message"] == "Not found"


def test_pages_need_a_login_and_say_where_to_come_back(client: TestClient) -> None:
    response = client.get("/users?q=ana", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/users%3Fq%3Dana"
    response = client.post("/api-keys/new", data={}, follow_redirects=False)
    assert response.headers["location"] == "/login"


def test_pages_carry_security_headers_and_no_inline_script(client: TestClient) -> None:
    log_in(client)
    page = client.get("/")
    assert "script-src" not in page.headers["content-security-policy"]  # default-src 'self'
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
    scripts = re.findall(r"<script[^>]*>", page.text)
    assert len(scripts) == 1 and 'src="/static/panel.js' in scripts[0]
    assert re.findall(r"<[^>]*\son[a-z]+=", page.text) == []  # no inline event handlers


def test_cookies_are_http_only_lax_and_secure_behind_https(
    settings: Settings, db: Database
) -> None:
    https = settings.model_copy(update={"public_url": "https://panel.example"})
    with TestClient(create_app(https, db), base_url="https://testserver") as client:
        page = client.get("/login")
        assert "secure" in page.headers["set-cookie"].lower()
        login_csrf = re.search(r'name="login_csrf" value="([^"]+)"', page.text)
        assert login_csrf
        response = client.post(
            "/login",
            data={
                "email": DEFAULT_ADMIN_EMAIL,
                "password": ADMIN_PASSWORD,
                "login_csrf": login_csrf[1],
            },
            follow_redirects=False,
        )
        session_cookie = next(
            c for c in response.headers.get_list("set-cookie") if c.startswith("outpost_session=")
        )
        assert "HttpOnly" in session_cookie
        assert "SameSite=lax" in session_cookie
        assert "Secure" in session_cookie


def test_a_forged_flash_message_is_not_shown(client: TestClient) -> None:
    client.cookies.set("outpost_flash", "W1sic3VjY2VzcyIsICJQd25lZCJdXQ==.0000")
    assert "Pwned" not in client.get("/login").text


def test_a_suspended_organization_is_logged_out(
    client: TestClient, factory: Factory, db: Database
) -> None:
    customer = factory.customer(None, "Late Payer")
    factory.user(customer.org_id, "late@payer.example", "late-password-1")
    log_in(client, "late@payer.example", "late-password-1")
    with db.session() as session:
        operator = factory.operator()
        update_organization(
            session=session,
            caller=Caller(org_id=operator.org_id, org_kind=operator.kind, role=Role.owner),
            org_id=customer.org_id,
            data=OrganizationUpdate(status=OrgStatus.suspended),
        )
    page = client.get("/")
    assert page.url.path == "/login"
    assert "This organization is suspended." in page.text


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/plans", "/plans"),
        ("/users?q=a", "/users?q=a"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("", "/"),
        (None, "/"),
    ],
)
def test_login_only_returns_to_local_pages(target: str | None, expected: str) -> None:
    assert safe_next(target) == expected
