"""An account's suppression list: search, add, remove, import a CSV file, export it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from outpost.accounts.listing import AccountView
from outpost.api.deps import DbSession, get_database
from outpost.db import Database
from outpost.errors import NotFound, ValidationFailed
from outpost.pagination import PageParams
from outpost.suppression.api import MAX_IMPORT_BYTES
from outpost.suppression.models import SuppressionReason
from outpost.suppression.schemas import SuppressionCreate
from outpost.suppression.service import (
    add_manual_suppression,
    export_suppressions,
    import_suppressions,
    list_suppressions,
    remove_suppression,
)
from outpost.web.deps import CurrentViewer, PostedForm
from outpost.web.forms import errors_by_field, text, validate, values_of
from outpost.web.render import redirect
from outpost.web.viewer import Viewer
from outpost.web.views.accounts.shell import load_account, render_account

router = APIRouter()
PER_PAGE = 25
REASON_LABELS = {
    SuppressionReason.hard_bounce.value: "Hard bounce",
    SuppressionReason.complaint.value: "Complaint",
    SuppressionReason.unsubscribe.value: "Unsubscribed",
    SuppressionReason.manual.value: "Added by hand",
}


def _base(account_id: int) -> str:
    return f"/accounts/{account_id}/suppression"


def _list_page(
    request: Request,
    session: Session,
    viewer: Viewer,
    view: AccountView,
    *,
    query: str = "",
    reason: str = "",
    page: int = 1,
    extra: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    params = PageParams(page=max(page, 1), per=PER_PAGE, query=query or None)
    wanted = reason if reason in REASON_LABELS else None
    result = list_suppressions(
        session=session,
        caller=viewer.caller,
        account_id=view.account.id,
        params=params,
        reason=wanted,
    )
    filters = {k: v for k, v in (("q", query), ("reason", wanted or "")) if v}
    context = {
        "page": result,
        "query": query,
        "reason": wanted or "",
        "filters": filters,
        "reason_labels": REASON_LABELS,
        "base": _base(view.account.id),
        **(extra or {}),
    }
    return render_account(
        request, "accounts/suppression.html", view, context, status_code=status_code
    )


@router.get("/accounts/{account_id}/suppression")
def suppression_list(
    request: Request,
    session: DbSession,
    viewer: CurrentViewer,
    account_id: int,
    q: str = "",
    reason: str = "",
    page: int = 1,
) -> Response:
    """The account's suppressed addresses, searchable and filtered by reason."""
    view = load_account(session, viewer, account_id)
    return _list_page(request, session, viewer, view, query=q.strip(), reason=reason, page=page)


@router.post("/accounts/{account_id}/suppression")
def add_address(
    request: Request, session: DbSession, viewer: CurrentViewer, form: PostedForm, account_id: int
) -> Response:
    """Put an address on the list by hand."""
    view = load_account(session, viewer, account_id)
    try:
        data = validate(
            SuppressionCreate, {"address": text(form, "address"), "detail": text(form, "detail")}
        )
        with session.begin_nested():
            row = add_manual_suppression(
                session=session, caller=viewer.caller, account_id=account_id, data=data
            )
    except ValidationFailed as exc:
        extra = {"values": values_of(form), "errors": errors_by_field(exc), "add_failed": True}
        return _list_page(request, session, viewer, view, extra=extra, status_code=422)
    message = f"{row.address} was added: messages to it are no longer sent."
    return redirect(request, _base(account_id), flash=message)


@router.get("/accounts/{account_id}/suppression/remove")
def confirm_remove(
    request: Request, session: DbSession, viewer: CurrentViewer, account_id: int, address: str
) -> Response:
    """Ask before taking an address off the list."""
    view = load_account(session, viewer, account_id)
    context = {"address": address.strip().lower(), "base": _base(account_id)}
    return render_account(request, "accounts/suppression_remove.html", view, context)


@router.post("/accounts/{account_id}/suppression/remove")
def remove_address(
    request: Request, session: DbSession, viewer: CurrentViewer, form: PostedForm, account_id: int
) -> Response:
    """Take an address off the list."""
    load_account(session, viewer, account_id)
    address = text(form, "address")
    try:
        remove_suppression(
            session=session, caller=viewer.caller, account_id=account_id, address=address
        )
    except NotFound:
        message = f"{address} is not on this account's suppression list."
        return redirect(request, _base(account_id), flash=message, level="error")
    message = f"{address.lower()} was removed: messages to it are sent again."
    return redirect(request, _base(account_id), flash=message)


def _uploaded(form: FormData) -> bytes:
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise ValidationFailed.one("file", "is required: choose a CSV file")
    # The upload is spooled to a temporary file already; this route runs in a worker thread.
    content = upload.file.read(MAX_IMPORT_BYTES + 1)
    if len(content) > MAX_IMPORT_BYTES:
        raise ValidationFailed.one("file", f"is larger than {MAX_IMPORT_BYTES // 2**20} MB")
    return content


@router.post("/accounts/{account_id}/suppression/import")
def import_file(
    request: Request, session: DbSession, viewer: CurrentViewer, form: PostedForm, account_id: int
) -> Response:
    """Add the addresses of an uploaded CSV file and report what was added and skipped."""
    view = load_account(session, viewer, account_id)
    try:
        content = _uploaded(form)
        with session.begin_nested():
            report = import_suppressions(
                session=session, caller=viewer.caller, account_id=account_id, content=content
            )
    except ValidationFailed as exc:
        extra = {"errors": errors_by_field(exc), "import_failed": True}
        return _list_page(request, session, viewer, view, extra=extra, status_code=422)
    upload = form.get("file")
    filename = upload.filename if isinstance(upload, UploadFile) else ""
    context = {"report": report, "filename": filename, "base": _base(account_id)}
    return render_account(request, "accounts/suppression_import.html", view, context)


@router.get("/accounts/{account_id}/suppression/export.csv", response_class=StreamingResponse)
def export_file(
    session: DbSession,
    viewer: CurrentViewer,
    database: Annotated[Database, Depends(get_database)],
    account_id: int,
) -> StreamingResponse:
    """The whole list as a CSV download: address,reason,detail,created_at."""
    export = export_suppressions(
        session=session, caller=viewer.caller, database=database, account_id=account_id
    )
    return StreamingResponse(
        export.chunks,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{export.filename}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
