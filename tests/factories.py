"""Test data made through the real services: tenants with management API keys."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from outpost.accounts.models import AccountStatus, AccountType, DeliveryAccount
from outpost.db import Database
from outpost.plans.service import get_plan
from outpost.security import generate_username, hash_password, new_token
from outpost.tenancy.auth import API_KEY_PREFIX
from outpost.tenancy.models import ApiKey, Organization, OrgKind, Role, User
from outpost.tenancy.service import get_operator

_names = itertools.count(1)


def make_account(
    session: Session,
    *,
    org_id: int | None = None,
    plan: str = "monthly",
    remaining: int = 10_000,
    status: AccountStatus = AccountStatus.enabled,
    description: str = "Test account",
) -> DeliveryAccount:
    """A delivery account inserted directly, with ``remaining`` plan messages left."""
    account = DeliveryAccount(
        org_id=org_id or get_operator(session=session).id,
        description=description,
        type=AccountType.transactional,
        username=generate_username(),
        smtp_password_hash="not-a-hash",
        status=status,
        plan_id=get_plan(session=session, code=plan).id,
        plan_messages=remaining,
        remaining=remaining,
    )
    session.add(account)
    session.flush()
    return account


@dataclass(frozen=True)
class Tenant:
    """An organization and the headers of a management API key acting in it."""

    org_id: int
    kind: OrgKind
    name: str
    headers: dict[str, str]


class Factory:
    """Makes tenants quickly (no password hashing) straight in the database."""

    def __init__(self, db: Database, client: TestClient) -> None:
        self.db = db
        self.client = client

    def key(self, org_id: int, role: Role = Role.owner) -> dict[str, str]:
        token = new_token(API_KEY_PREFIX)
        with self.db.session() as session:
            session.add(
                ApiKey(
                    org_id=org_id,
                    name="test",
                    role=role,
                    token_hash=token.hash,
                    preview=token.preview,
                )
            )
        return {"X-Api-Token": token.value}

    def user(self, org_id: int, email: str, password: str, role: Role = Role.owner) -> int:
        """A user who can log in to the panel; returns its id."""
        with self.db.session() as session:
            user = User(
                org_id=org_id,
                email=email,
                name=email.split("@")[0].title(),
                role=role,
                password_hash=hash_password(password),
            )
            session.add(user)
            session.flush()
            return user.id

    def _org(self, kind: OrgKind, parent_id: int, name: str | None) -> Organization:
        with self.db.session() as session:
            org = Organization(
                kind=kind, parent_id=parent_id, name=name or f"{kind.value} {next(_names)}"
            )
            session.add(org)
            session.flush()
            return org

    def operator(self, role: Role = Role.owner) -> Tenant:
        with self.db.session() as session:
            op = get_operator(session=session)
        return Tenant(op.id, op.kind, op.name, self.key(op.id, role))

    def reseller(self, name: str | None = None, role: Role = Role.owner) -> Tenant:
        op = self.operator()
        org = self._org(OrgKind.reseller, op.org_id, name)
        return Tenant(org.id, org.kind, org.name, self.key(org.id, role))

    def customer(
        self, parent: Tenant | None = None, name: str | None = None, role: Role = Role.owner
    ) -> Tenant:
        parent_id = parent.org_id if parent else self.operator().org_id
        org = self._org(OrgKind.customer, parent_id, name)
        return Tenant(org.id, org.kind, org.name, self.key(org.id, role))
