"""Proving who calls: management API keys, password logins and panel sessions."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from outpost.db import utcnow
from outpost.errors import Forbidden, NotFound, Unauthorized, ValidationFailed
from outpost.security import hash_password, new_token, token_hash, verify_password
from outpost.tenancy.models import ApiKey, Organization, OrgKind, OrgStatus, Role, User, WebSession
from outpost.tenancy.schemas import ApiKeyCreate, PasswordChange
from outpost.tenancy.scope import Caller, require_admin
from outpost.tenancy.service import ROLE_RANK

API_KEY_PREFIX = "opk_"
SESSION_LIFETIME = timedelta(hours=12)
# last_used_at is informational; writing it at most once a minute keeps reads read-only.
_LAST_USED_RESOLUTION = timedelta(minutes=1)
# Verified against when the e-mail is unknown, so both failures take the same time.
_DUMMY_HASH = hash_password("not-a-real-password")


@dataclass(frozen=True)
class CreatedApiKey:
    """A new management key: the row and the token shown once."""

    key: ApiKey
    token: str


def _caller_for(user: User, org: Organization) -> Caller:
    return Caller(org_id=org.id, org_kind=org.kind, role=user.role, user_id=user.id)


def _check_active(org: Organization) -> None:
    if org.status is OrgStatus.suspended:
        raise Unauthorized("This organization is suspended.")


def create_api_key(*, session: Session, caller: Caller, data: ApiKeyCreate) -> CreatedApiKey:
    """A management API key in the caller's organization, at most with the caller's role."""
    require_admin(caller)
    role = data.role or caller.role
    if ROLE_RANK[role] > ROLE_RANK[caller.role]:
        role = caller.role
    token = new_token(API_KEY_PREFIX)
    key = ApiKey(
        org_id=caller.org_id,
        created_by_user_id=caller.user_id,
        name=data.name,
        role=role,
        token_hash=token.hash,
        preview=token.preview,
    )
    session.add(key)
    session.flush()
    return CreatedApiKey(key=key, token=token.value)


def list_api_keys(*, session: Session, caller: Caller) -> list[ApiKey]:
    """The management keys of the caller's own organization."""
    return list(
        session.scalars(
            select(ApiKey).where(ApiKey.org_id == caller.org_id).order_by(ApiKey.id)
        ).all()
    )


def get_api_key(*, session: Session, caller: Caller, key_id: int) -> ApiKey:
    """A management key of the caller's own organization."""
    key = session.scalar(select(ApiKey).where(ApiKey.id == key_id, ApiKey.org_id == caller.org_id))
    if key is None:
        raise NotFound("API key not found.")
    return key


def delete_api_key(*, session: Session, caller: Caller, key_id: int) -> None:
    """Revoke a management key of the caller's own organization."""
    require_admin(caller)
    key = session.scalar(select(ApiKey).where(ApiKey.id == key_id, ApiKey.org_id == caller.org_id))
    if key is None:
        raise NotFound("API key not found.")
    session.delete(key)
    session.flush()


def authenticate_api_key(*, session: Session, token: str) -> Caller:
    """The caller a management token stands for; Unauthorized when it is unknown."""
    row = session.execute(
        select(ApiKey, Organization)
        .join(Organization, Organization.id == ApiKey.org_id)
        .where(ApiKey.token_hash == token_hash(token))
    ).first()
    if row is None:
        raise Unauthorized("Invalid API token.")
    key, org = row
    _check_active(org)
    now = utcnow()
    if key.last_used_at is None or now - key.last_used_at > _LAST_USED_RESOLUTION:
        key.last_used_at = now
    return Caller(org_id=org.id, org_kind=org.kind, role=key.role, api_key_id=key.id)


def authenticate_password(*, session: Session, email: str, password: str) -> User:
    """The user these credentials belong to; Unauthorized otherwise."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        verify_password(_DUMMY_HASH, password)
        raise Unauthorized("Wrong e-mail or password.")
    if not verify_password(user.password_hash, password):
        raise Unauthorized("Wrong e-mail or password.")
    org = session.get_one(Organization, user.org_id)
    _check_active(org)
    user.last_login_at = utcnow()
    return user


def start_web_session(*, session: Session, user: User) -> tuple[str, WebSession]:
    """A new panel session for ``user``: the cookie value and its row."""
    token = secrets.token_urlsafe(32)
    row = WebSession(
        user_id=user.id,
        token_hash=token_hash(token),
        csrf_token=secrets.token_urlsafe(32),
        expires_at=utcnow() + SESSION_LIFETIME,
    )
    session.add(row)
    session.flush()
    return token, row


def resume_web_session(*, session: Session, token: str) -> tuple[Caller, WebSession, User]:
    """The caller behind a session cookie; Unauthorized when missing or expired."""
    row = session.execute(
        select(WebSession, User, Organization)
        .join(User, User.id == WebSession.user_id)
        .join(Organization, Organization.id == User.org_id)
        .where(WebSession.token_hash == token_hash(token), WebSession.expires_at > utcnow())
    ).first()
    if row is None:
        raise Unauthorized("Your session has expired; please log in again.")
    web_session, user, org = row
    _check_active(org)
    return _caller_for(user, org), web_session, user


def end_web_session(*, session: Session, token: str) -> None:
    """Log out: forget the session behind a cookie value."""
    session.execute(delete(WebSession).where(WebSession.token_hash == token_hash(token)))


def change_password(
    *, session: Session, caller: Caller, data: PasswordChange, keep_session_id: int | None = None
) -> None:
    """Change the caller's own password after checking the current one; other sessions end."""
    if caller.user_id is None:
        raise Forbidden("Only a logged-in user has a password to change.")
    user = session.get_one(User, caller.user_id)
    if not verify_password(user.password_hash, data.current_password):
        raise ValidationFailed.one("current_password", "is not your current password")
    user.password_hash = hash_password(data.new_password)
    session.execute(
        delete(WebSession).where(
            WebSession.user_id == user.id, WebSession.id != (keep_session_id or 0)
        )
    )


def purge_expired_sessions(*, session: Session) -> int:
    """Delete expired panel sessions; returns how many."""
    result = session.execute(delete(WebSession).where(WebSession.expires_at <= utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True)
class Bootstrap:
    """What the first start created: the operator, its admin and a generated password."""

    operator: Organization
    admin: User
    generated_password: str | None


def bootstrap(
    *, session: Session, operator_name: str, admin_email: str, admin_password: str | None
) -> Bootstrap | None:
    """Create the operator and its first admin once; None when they already exist."""
    if session.scalar(select(Organization.id).where(Organization.kind == OrgKind.operator)):
        return None
    operator = Organization(kind=OrgKind.operator, name=operator_name)
    session.add(operator)
    session.flush()
    generated = None if admin_password else secrets.token_urlsafe(12)
    admin = User(
        org_id=operator.id,
        email=admin_email.strip().lower(),
        name="Administrator",
        role=Role.owner,
        password_hash=hash_password(admin_password or generated or ""),
    )
    session.add(admin)
    session.flush()
    return Bootstrap(operator=operator, admin=admin, generated_password=generated)
