"""Organizations and users, always seen through the caller's scope."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from outpost.db import utcnow
from outpost.errors import Conflict, Forbidden, NotFound, ValidationFailed
from outpost.pagination import Page, PageParams, paginate
from outpost.security import generate_password, hash_password
from outpost.tenancy.models import Organization, OrgKind, Role, User
from outpost.tenancy.schemas import (
    OrganizationCreate,
    OrganizationUpdate,
    UserCreate,
    UserUpdate,
)
from outpost.tenancy.scope import (
    Caller,
    require_admin,
    require_manager_of,
    visible_orgs,
)

ROLE_RANK = {Role.read_only: 0, Role.member: 1, Role.admin: 2, Role.owner: 3}


@dataclass(frozen=True)
class CreatedOrganization:
    """A new organization and, when one was asked for, its owner and generated password."""

    organization: Organization
    owner: User | None
    generated_password: str | None


def get_operator(*, session: Session) -> Organization:
    """The installation's single operator organization."""
    operator = session.scalar(select(Organization).where(Organization.kind == OrgKind.operator))
    if operator is None:
        raise NotFound("The installation has no operator yet; run `outpost db upgrade`.")
    return operator


def get_organization(*, session: Session, caller: Caller, org_id: int) -> Organization:
    """An organization the caller may see; others do not exist for it."""
    org = session.scalar(
        select(Organization).where(Organization.id == org_id, visible_orgs(caller, Organization.id))
    )
    if org is None:
        raise NotFound("Organization not found.")
    return org


def list_organizations(
    *, session: Session, caller: Caller, params: PageParams, kind: OrgKind | None = None
) -> Page[Organization]:
    """A page of the organizations the caller may see, searchable by name."""
    statement = select(Organization).where(visible_orgs(caller, Organization.id))
    if kind is not None:
        statement = statement.where(Organization.kind == kind)
    if params.query:
        statement = statement.where(Organization.name.ilike(f"%{params.query}%"))
    return paginate(
        session,
        statement,
        params,
        sortable={"name": Organization.name, "created_at": Organization.created_at},
        default_sort=[Organization.name.asc()],
        tiebreak=Organization.id,
        filters={"kind": kind.value} if kind else None,
    )


def _parent_for(*, session: Session, caller: Caller, data: OrganizationCreate) -> Organization:
    if caller.org_kind is OrgKind.customer:
        raise Forbidden("A customer cannot create organizations.")
    if caller.org_kind is OrgKind.reseller:
        if data.kind is not OrgKind.customer:
            raise Forbidden("A reseller can only create customers.")
        if data.parent_id not in (None, caller.org_id):
            raise ValidationFailed.one("parent_id", "must be your own organization")
        return get_organization(session=session, caller=caller, org_id=caller.org_id)
    if data.kind is OrgKind.reseller or data.parent_id is None:
        if data.kind is OrgKind.reseller and data.parent_id not in (None, caller.org_id):
            raise ValidationFailed.one("parent_id", "a reseller always sits under the operator")
        return get_operator(session=session)
    parent = session.get(Organization, data.parent_id)
    if parent is None or parent.kind is OrgKind.customer:
        raise ValidationFailed.one("parent_id", "must be the operator or a reseller")
    return parent


def create_organization(
    *, session: Session, caller: Caller, data: OrganizationCreate
) -> CreatedOrganization:
    """Create a reseller (operator only) or a customer (operator or its reseller)."""
    require_admin(caller)
    parent = _parent_for(session=session, caller=caller, data=data)
    org = Organization(
        kind=data.kind,
        parent_id=parent.id,
        name=data.name,
        service_package=data.service_package,
        billing=data.billing.model_dump(),
        restrictions=data.restrictions.model_dump(),
    )
    session.add(org)
    session.flush()
    owner, password = None, None
    if data.owner_email:
        password = None if data.owner_password else generate_password()
        owner = _add_user(
            session=session,
            org=org,
            email=data.owner_email,
            name=data.name,
            role=Role.owner,
            password=data.owner_password or password or "",
        )
    return CreatedOrganization(organization=org, owner=owner, generated_password=password)


def update_organization(
    *, session: Session, caller: Caller, org_id: int, data: OrganizationUpdate
) -> Organization:
    """Change an organization: its own admins edit profile fields, its managers the rest."""
    require_admin(caller)
    org = get_organization(session=session, caller=caller, org_id=org_id)
    managed_fields = {"status", "service_package", "restrictions"} & data.model_fields_set
    if org.id == caller.org_id and managed_fields and not caller.is_operator:
        raise Forbidden("Status, service package and restrictions are set by your provider.")
    if org.id != caller.org_id:
        require_manager_of(caller, org)
    if data.name is not None:
        org.name = data.name
    if data.status is not None:
        if org.kind is OrgKind.operator:
            raise ValidationFailed.one("status", "the operator cannot be suspended")
        org.status = data.status
    if data.service_package is not None:
        org.service_package = data.service_package
    if data.billing is not None:
        org.billing = data.billing.model_dump()
    if data.restrictions is not None:
        org.restrictions = data.restrictions.model_dump()
    if data.accept_contract:
        org.contract_accepted_at = org.contract_accepted_at or utcnow()
    session.flush()
    return org


def delete_organization(*, session: Session, caller: Caller, org_id: int) -> None:
    """Delete a customer or reseller that no longer owns anything."""
    require_admin(caller)
    org = get_organization(session=session, caller=caller, org_id=org_id)
    if org.id == caller.org_id or org.kind is OrgKind.operator:
        raise Forbidden("You cannot delete your own organization.")
    require_manager_of(caller, org)
    try:
        with session.begin_nested():
            session.delete(org)
            session.flush()
    except IntegrityError as exc:
        raise Conflict(
            "The organization still owns customers, delivery accounts or domains; "
            "remove them first."
        ) from exc


# Users


def _add_user(
    *, session: Session, org: Organization, email: str, name: str, role: Role, password: str
) -> User:
    email = email.lower()
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise ValidationFailed.one("email", "already exists")
    user = User(
        org_id=org.id, email=email, name=name, role=role, password_hash=hash_password(password)
    )
    session.add(user)
    session.flush()
    return user


def _check_role_grant(caller: Caller, role: Role) -> None:
    if ROLE_RANK[role] > ROLE_RANK[caller.role]:
        raise Forbidden("You cannot grant a role above your own.")


def list_users(*, session: Session, caller: Caller, org_id: int, params: PageParams) -> Page[User]:
    """A page of an organization's users."""
    org = get_organization(session=session, caller=caller, org_id=org_id)
    statement = select(User).where(User.org_id == org.id)
    if params.query:
        pattern = f"%{params.query}%"
        statement = statement.where(or_(User.email.ilike(pattern), User.name.ilike(pattern)))
    return paginate(
        session,
        statement,
        params,
        sortable={"email": User.email, "created_at": User.created_at},
        default_sort=[User.email.asc()],
        tiebreak=User.id,
    )


def create_user(
    *, session: Session, caller: Caller, org_id: int, data: UserCreate
) -> tuple[User, str | None]:
    """Add a user to an organization; returns the generated password when none was given."""
    require_admin(caller)
    org = get_organization(session=session, caller=caller, org_id=org_id)
    if org.id != caller.org_id:
        require_manager_of(caller, org)
    else:
        _check_role_grant(caller, data.role)
    generated = None if data.password else generate_password()
    user = _add_user(
        session=session,
        org=org,
        email=data.email,
        name=data.name,
        role=data.role,
        password=data.password or generated or "",
    )
    return user, generated


def get_user(*, session: Session, caller: Caller, user_id: int) -> User:
    """A user in an organization the caller may see."""
    user = session.scalar(select(User).where(User.id == user_id, visible_orgs(caller, User.org_id)))
    if user is None:
        raise NotFound("User not found.")
    return user


def _require_user_admin(*, session: Session, caller: Caller, user: User) -> None:
    require_admin(caller)
    if user.org_id != caller.org_id:
        org = get_organization(session=session, caller=caller, org_id=user.org_id)
        require_manager_of(caller, org)


def update_user(*, session: Session, caller: Caller, user_id: int, data: UserUpdate) -> User:
    """Change a user's name, role or password; anyone may change their own name and password."""
    user = get_user(session=session, caller=caller, user_id=user_id)
    # Everyone, read-only users included, may change their own name and password.
    if user.id != caller.user_id or data.role not in (None, user.role):
        _require_user_admin(session=session, caller=caller, user=user)
    if data.role is not None and data.role is not user.role:
        if user.id == caller.user_id:
            raise Forbidden("You cannot change your own role.")
        if user.org_id == caller.org_id:
            _check_role_grant(caller, data.role)
    if data.name is not None:
        user.name = data.name
    if data.role is not None:
        user.role = data.role
    if data.password is not None:
        user.password_hash = hash_password(data.password)
    session.flush()
    return user


def delete_user(*, session: Session, caller: Caller, user_id: int) -> None:
    """Remove a user; the last owner of an organization stays."""
    user = get_user(session=session, caller=caller, user_id=user_id)
    _require_user_admin(session=session, caller=caller, user=user)
    if user.id == caller.user_id:
        raise Forbidden("You cannot delete yourself.")
    if user.role is Role.owner:
        owners = session.scalars(
            select(User.id).where(User.org_id == user.org_id, User.role == Role.owner)
        ).all()
        if len(owners) <= 1:
            raise Conflict("An organization keeps at least one owner.")
    session.delete(user)
    session.flush()
