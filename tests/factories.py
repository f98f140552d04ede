"""Test data made through the real services: tenants with management API keys."""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass

from sqlalchemy.orm import Session

from outpost.accounts.models import AccountStatus, AccountType, DeliveryAccount
from outpost.db import Database, utcnow
from outpost.domains.dns_records import return_path_host
from outpost.domains.keys import DkimKeys, new_dkim_keys
from outpost.domains.models import AccountDomain, Domain, DomainStatus
from outpost.plans.service import get_plan
from outpost.security import generate_username, hash_password, new_token
from outpost.tenancy.auth import API_KEY_PREFIX
from outpost.tenancy.models import ApiKey, Organization, OrgKind, Role, User
from outpost.tenancy.service import get_operator
from outpost.tokens.models import SendToken

_names = itertools.count(1)
# The installation secret of the test settings (conftest.py), which encrypts DKIM keys.
TEST_SECRET_KEY = "test-secret-key-not-for-production"


def associate(session: Session, account: DeliveryAccount, domain: Domain) -> None:
    """Let ``account`` send from ``domain``."""
    session.add(AccountDomain(account_id=account.id, domain_id=domain.id))
    session.flush()


def make_send_token(
    session: Session, account: DeliveryAccount, ip_allowlist: list[str] | None = None
) -> str:
    """A Send API token of ``account``; returns the bearer value."""
    token = new_token("ops_")
    session.add(
        SendToken(
            account_id=account.id,
            name="test token",
            token_hash=token.hash,
            preview=token.preview,
            ip_allowlist=ip_allowlist or [],
        )
    )
    session.flush()
    return token.value


def make_account(
    session: Session,
    *,
    org_id: int | None = None,
    plan: str = "monthly",
    remaining: int = 10_000,
    status: AccountStatus = AccountStatus.enabled,
    description: str = "Test account",
    smtp_password: str | None = None,
) -> DeliveryAccount:
    """A delivery account inserted directly, with ``remaining`` plan messages left."""
    account = DeliveryAccount(
        org_id=org_id or get_operator(session=session).id,
        description=description,
        type=AccountType.transactional,
        username=generate_username(),
        smtp_password_hash=hash_password(smtp_password) if smtp_password else "not-a-hash",
        status=status,
        plan_id=get_plan(session=session, code=plan).id,
        plan_messages=remaining,
        remaining=remaining,
    )
    session.add(account)
    session.flush()
    return account


@functools.cache
def _dkim_keys(secret: str) -> DkimKeys:
    # Key generation is slow; every test domain may share one set of keys.
    return new_dkim_keys(secret)


def make_domain(
    session: Session,
    *,
    org_id: int,
    name: str = "example.test",
    status: DomainStatus = DomainStatus.verified,
    account_id: int | None = None,
    secret: str = TEST_SECRET_KEY,
) -> Domain:
    """A sending domain inserted directly (verified unless told), optionally associated."""
    keys = _dkim_keys(secret)
    domain = Domain(
        org_id=org_id,
        name=name,
        status=status,
        verification_token="test-token",
        dkim_selector=keys.rsa_selector,
        dkim_private_key=keys.rsa_private_key,
        dkim_public_key=keys.rsa_public_key,
        dkim_ed25519_selector=keys.ed25519_selector,
        dkim_ed25519_private_key=keys.ed25519_private_key,
        dkim_ed25519_public_key=keys.ed25519_public_key,
        return_path_host=return_path_host(name),
        checks={},
        verified_at=None if status is DomainStatus.pending else utcnow(),
    )
    session.add(domain)
    session.flush()
    if account_id is not None:
        session.add(AccountDomain(account_id=account_id, domain_id=domain.id))
        session.flush()
    return domain


@dataclass(frozen=True)
class Tenant:
    """An organization and the headers of a management API key acting in it."""

    org_id: int
    kind: OrgKind
    name: str
    headers: dict[str, str]


class Factory:
    """Makes tenants quickly (no password hashing) straight in the database."""

    def __init__(self, db: Database) -> None:
        self.db = db

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
