"""Management API routes for organizations, users and API keys."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from outpost.api.deps import CurrentCaller, DbSession, Paging
from outpost.schemas import resources
from outpost.tenancy import auth, service
from outpost.tenancy.models import OrgKind
from outpost.tenancy.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyOut,
    OrganizationCreate,
    OrganizationCreated,
    OrganizationOut,
    OrganizationUpdate,
    UserCreate,
    UserCreated,
    UserOut,
    UserUpdate,
)

router = APIRouter(tags=["organizations"])


@router.get("/me")
def who_am_i(session: DbSession, caller: CurrentCaller) -> dict[str, Any]:
    """The caller's organization and role."""
    org = service.get_organization(session=session, caller=caller, org_id=caller.org_id)
    return {
        "organization": OrganizationOut.model_validate(org).model_dump(mode="json"),
        "role": caller.role,
        "user_id": caller.user_id,
        "api_key_id": caller.api_key_id,
    }


@router.get("/organizations")
def list_organizations(
    session: DbSession, caller: CurrentCaller, paging: Paging, kind: OrgKind | None = None
) -> dict[str, Any]:
    """Organizations the caller may see."""
    page = service.list_organizations(session=session, caller=caller, params=paging, kind=kind)
    return {
        "resources": [OrganizationOut.model_validate(o) for o in page.items],
        "pagination": page.pagination,
    }


@router.post("/organizations", status_code=201)
def create_organization(
    session: DbSession, caller: CurrentCaller, data: OrganizationCreate
) -> dict[str, Any]:
    """Create a reseller or customer."""
    created = service.create_organization(session=session, caller=caller, data=data)
    out = OrganizationCreated.model_validate(created.organization)
    out.owner_email = created.owner.email if created.owner else None
    out.owner_password = created.generated_password
    return resources(out)


@router.get("/organizations/{org_id}")
def get_organization(session: DbSession, caller: CurrentCaller, org_id: int) -> dict[str, Any]:
    """One organization."""
    org = service.get_organization(session=session, caller=caller, org_id=org_id)
    return resources(OrganizationOut.model_validate(org))


@router.put("/organizations/{org_id}")
def update_organization(
    session: DbSession, caller: CurrentCaller, org_id: int, data: OrganizationUpdate
) -> dict[str, Any]:
    """Change an organization."""
    org = service.update_organization(session=session, caller=caller, org_id=org_id, data=data)
    return resources(OrganizationOut.model_validate(org))


@router.delete("/organizations/{org_id}", status_code=204)
def delete_organization(session: DbSession, caller: CurrentCaller, org_id: int) -> Response:
    """Delete an organization that owns nothing any more."""
    service.delete_organization(session=session, caller=caller, org_id=org_id)
    return Response(status_code=204)


@router.get("/organizations/{org_id}/users")
def list_users(
    session: DbSession, caller: CurrentCaller, org_id: int, paging: Paging
) -> dict[str, Any]:
    """An organization's users."""
    page = service.list_users(session=session, caller=caller, org_id=org_id, params=paging)
    return {
        "resources": [UserOut.model_validate(u) for u in page.items],
        "pagination": page.pagination,
    }


@router.post("/organizations/{org_id}/users", status_code=201)
def create_user(
    session: DbSession, caller: CurrentCaller, org_id: int, data: UserCreate
) -> dict[str, Any]:
    """Add a user to an organization."""
    user, password = service.create_user(session=session, caller=caller, org_id=org_id, data=data)
    out = UserCreated.model_validate(user)
    out.password = password
    return resources(out)


@router.get("/users/{user_id}")
def get_user(session: DbSession, caller: CurrentCaller, user_id: int) -> dict[str, Any]:
    """One user."""
    return resources(
        UserOut.model_validate(service.get_user(session=session, caller=caller, user_id=user_id))
    )


@router.put("/users/{user_id}")
def update_user(
    session: DbSession, caller: CurrentCaller, user_id: int, data: UserUpdate
) -> dict[str, Any]:
    """Change a user."""
    user = service.update_user(session=session, caller=caller, user_id=user_id, data=data)
    return resources(UserOut.model_validate(user))


@router.delete("/users/{user_id}", status_code=204)
def delete_user(session: DbSession, caller: CurrentCaller, user_id: int) -> Response:
    """Remove a user."""
    service.delete_user(session=session, caller=caller, user_id=user_id)
    return Response(status_code=204)


@router.get("/api-keys", tags=["api keys"])
def list_api_keys(session: DbSession, caller: CurrentCaller) -> dict[str, Any]:
    """The management keys of the caller's organization, masked."""
    keys = auth.list_api_keys(session=session, caller=caller)
    return {"resources": [ApiKeyOut.model_validate(k) for k in keys]}


@router.post("/api-keys", status_code=201, tags=["api keys"])
def create_api_key(session: DbSession, caller: CurrentCaller, data: ApiKeyCreate) -> dict[str, Any]:
    """Create a management key; the token is in this answer only."""
    created = auth.create_api_key(session=session, caller=caller, data=data)
    out = ApiKeyCreated.model_validate(
        {**ApiKeyOut.model_validate(created.key).model_dump(), "token": created.token}
    )
    return resources(out)


@router.delete("/api-keys/{key_id}", status_code=204, tags=["api keys"])
def delete_api_key(session: DbSession, caller: CurrentCaller, key_id: int) -> Response:
    """Revoke a management key."""
    auth.delete_api_key(session=session, caller=caller, key_id=key_id)
    return Response(status_code=204)
