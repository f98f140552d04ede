"""The reseller portal: resellers and customers, created, searched, edited and deleted."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session

from outpost.api.deps import DbSession
from outpost.errors import Conflict, Forbidden, ValidationFailed
from outpost.pagination import PageParams
from outpost.plans.service import list_plans
from outpost.tenancy.models import Organization, OrgKind
from outpost.tenancy.scope import Caller, require_admin
from outpost.tenancy.service import (
    create_organization,
    delete_organization,
    get_organization,
    list_organizations,
    list_users,
    update_organization,
)
from outpost.tenancy.summary import organization_names
from outpost.web.deps import CurrentViewer, PostedForm
from outpost.web.forms import errors_by_field, values_of
from outpost.web.org_forms import (
    BILLING_FIELDS,
    CUSTOMER_TYPES,
    SERVICE_PACKAGES,
    creation_from,
    form_values,
    update_from,
)
from outpost.web.render import redirect, render
from outpost.web.viewer import KIND_LABELS, Viewer

router = APIRouter()
PER_PAGE = 20
MAX_RESELLERS_IN_PICKER = 500


def _kind_shown(viewer: Viewer, kind: str | None) -> OrgKind:
    return OrgKind.reseller if viewer.is_operator and kind == "reseller" else OrgKind.customer


def _form_context(
    session: Session, caller: Caller, kind: OrgKind, org: Organization | None = None
) -> dict[str, Any]:
    resellers: list[Organization] = []
    if caller.is_operator and kind is OrgKind.customer and org is None:
        params = PageParams(per=MAX_RESELLERS_IN_PICKER)
        page = list_organizations(
            session=session, caller=caller, params=params, kind=OrgKind.reseller
        )
        resellers = list(page.items)
    return {
        "kind": kind,
        "kind_label": KIND_LABELS[kind].lower(),
        "org": org,
        "managed": org is None or org.id != caller.org_id,
        "plans": list_plans(session=session, include_inactive=True),
        "resellers": resellers,
        "packages": SERVICE_PACKAGES,
        "customer_types": CUSTOMER_TYPES,
        "billing_fields": BILLING_FIELDS,
        "field_labels": {
            "name": f"{KIND_LABELS[kind]} name",
            "owner_email": "Owner's e-mail",
            "owner_password": "Owner's password",
            **{f"billing.{name}": label for name, label, _ in BILLING_FIELDS},
        },
    }


@router.get("/organizations")
def organization_list(
    request: Request,
    session: DbSession,
    viewer: CurrentViewer,
    q: str = "",
    page: int = 1,
    kind: str | None = None,
) -> Response:
    """Resellers or customers, searchable by name, a page at a time."""
    shown = _kind_shown(viewer, kind)
    params = PageParams(page=max(page, 1), per=PER_PAGE, query=q.strip() or None)
    result = list_organizations(session=session, caller=viewer.caller, params=params, kind=shown)
    parents = organization_names(
        session=session,
        caller=viewer.caller,
        ids={o.parent_id for o in result.items if o.parent_id},
    )
    return render(
        request,
        "organizations/list.html",
        {"page": result, "kind": shown, "query": q.strip(), "parents": parents},
    )


@router.get("/organizations/new")
def new_organization(
    request: Request, session: DbSession, viewer: CurrentViewer, kind: str | None = None
) -> Response:
    """The creation form for a customer (or, for the operator, a reseller)."""
    require_admin(viewer.caller)
    if not viewer.manages_organizations:
        raise Forbidden("A customer cannot create organizations.")
    shown = _kind_shown(viewer, kind)
    return render(
        request,
        "organizations/new.html",
        {**_form_context(session, viewer.caller, shown), "values": {"service_package": "reseller"}},
    )


@router.post("/organizations/new")
def create(
    request: Request,
    session: DbSession,
    viewer: CurrentViewer,
    form: PostedForm,
    kind: str | None = None,
) -> Response:
    """Create the organization; show a generated owner password once."""
    shown = _kind_shown(viewer, kind)
    plans = list_plans(session=session, include_inactive=True)
    try:
        data = creation_from(form, kind=shown, plans=plans)
        with session.begin_nested():
            created = create_organization(session=session, caller=viewer.caller, data=data)
    except ValidationFailed as exc:
        context = _form_context(session, viewer.caller, shown)
        return render(
            request,
            "organizations/new.html",
            {**context, "values": values_of(form), "errors": errors_by_field(exc)},
            status_code=422,
        )
    org = created.organization
    if created.generated_password:
        return render(request, "organizations/created.html", {"created": created})
    message = f"{KIND_LABELS[org.kind]} “{org.name}” was created."
    return redirect(request, f"/organizations/{org.id}", flash=message)


def _detail(request: Request, session: DbSession, viewer: Viewer, org_id: int) -> Response:
    org = get_organization(session=session, caller=viewer.caller, org_id=org_id)
    users = list_users(session=session, caller=viewer.caller, org_id=org.id, params=PageParams())
    return render(
        request,
        "organizations/detail.html",
        {
            "org": org,
            "users": users,
            "managed": org.id != viewer.org_id,
            "plans": list_plans(session=session, include_inactive=True),
            "packages": {p.value: label for p, label, _ in SERVICE_PACKAGES},
            "billing_fields": BILLING_FIELDS,
        },
    )


@router.get("/organization")
def own_organization(request: Request, session: DbSession, viewer: CurrentViewer) -> Response:
    """The user's own organization: its profile and billing data."""
    return _detail(request, session, viewer, viewer.org_id)


@router.get("/organizations/{org_id}")
def organization(
    request: Request, session: DbSession, viewer: CurrentViewer, org_id: int
) -> Response:
    """One organization."""
    return _detail(request, session, viewer, org_id)


@router.get("/organizations/{org_id}/edit")
def edit_organization(
    request: Request, session: DbSession, viewer: CurrentViewer, org_id: int
) -> Response:
    """The edit form."""
    require_admin(viewer.caller)
    org = get_organization(session=session, caller=viewer.caller, org_id=org_id)
    context = _form_context(session, viewer.caller, org.kind, org)
    return render(request, "organizations/edit.html", {**context, "values": form_values(org)})


@router.post("/organizations/{org_id}/edit")
def update(
    request: Request, session: DbSession, viewer: CurrentViewer, form: PostedForm, org_id: int
) -> Response:
    """Save the changes."""
    org = get_organization(session=session, caller=viewer.caller, org_id=org_id)
    plans = list_plans(session=session, include_inactive=True)
    try:
        data = update_from(form, org=org, managed=org.id != viewer.org_id, plans=plans)
        with session.begin_nested():
            update_organization(session=session, caller=viewer.caller, org_id=org_id, data=data)
    except ValidationFailed as exc:
        context = _form_context(session, viewer.caller, org.kind, org)
        return render(
            request,
            "organizations/edit.html",
            {**context, "values": values_of(form), "errors": errors_by_field(exc)},
            status_code=422,
        )
    target = "/organization" if org_id == viewer.org_id else f"/organizations/{org_id}"
    return redirect(request, target, flash="Your changes were saved.")


@router.get("/organizations/{org_id}/delete")
def confirm_delete(
    request: Request, session: DbSession, viewer: CurrentViewer, org_id: int
) -> Response:
    """Ask before deleting."""
    org = get_organization(session=session, caller=viewer.caller, org_id=org_id)
    return render(request, "organizations/delete.html", {"org": org})


@router.post("/organizations/{org_id}/delete")
def delete(
    request: Request, session: DbSession, viewer: CurrentViewer, _form: PostedForm, org_id: int
) -> Response:
    """Delete an organization that owns nothing any more."""
    org = get_organization(session=session, caller=viewer.caller, org_id=org_id)
    name, kind = org.name, org.kind
    try:
        delete_organization(session=session, caller=viewer.caller, org_id=org_id)
    except Conflict as exc:
        return redirect(request, f"/organizations/{org_id}", flash=exc.message, level="error")
    back = "/organizations?kind=reseller" if kind is OrgKind.reseller else "/organizations"
    return redirect(request, back, flash=f"{KIND_LABELS[kind]} “{name}” was deleted.")
