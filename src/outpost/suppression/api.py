"""Management API routes for an account's suppression list."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import StreamingResponse

from outpost.api.deps import CurrentCaller, DbSession, Paging, get_database
from outpost.db import Database
from outpost.errors import PayloadTooLarge
from outpost.schemas import resources
from outpost.suppression import service
from outpost.suppression.schemas import SuppressionCreate, SuppressionOut

MAX_IMPORT_BYTES = 50 * 1024 * 1024

_CSV_BODY = {
    "requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}, "required": True}
}


async def read_csv_body(request: Request) -> bytes:
    """The raw request body, refused beyond the import size limit."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_IMPORT_BYTES:
            raise PayloadTooLarge(f"The file is larger than {MAX_IMPORT_BYTES // 2**20} MB.")
        chunks.append(chunk)
    return b"".join(chunks)


CsvBody = Annotated[bytes, Depends(read_csv_body)]

router = APIRouter(prefix="/accounts/{account_id}/suppressions", tags=["suppression list"])


@router.get("")
def list_suppressions(
    session: DbSession,
    caller: CurrentCaller,
    paging: Paging,
    account_id: int,
    reason: str | None = None,
) -> dict[str, Any]:
    """The account's suppressed addresses; ``query`` searches them, ``reason`` filters."""
    page = service.list_suppressions(
        session=session, caller=caller, account_id=account_id, params=paging, reason=reason
    )
    return {
        "resources": [SuppressionOut.model_validate(s) for s in page.items],
        "pagination": page.pagination,
    }


@router.post("", status_code=201)
def add_suppression(
    session: DbSession, caller: CurrentCaller, account_id: int, data: SuppressionCreate
) -> dict[str, Any]:
    """Suppress an address by hand."""
    row = service.add_manual_suppression(
        session=session, caller=caller, account_id=account_id, data=data
    )
    return resources(SuppressionOut.model_validate(row))


@router.get("/export.csv", response_class=StreamingResponse)
def export_suppressions(
    session: DbSession,
    caller: CurrentCaller,
    database: Annotated[Database, Depends(get_database)],
    account_id: int,
) -> StreamingResponse:
    """The whole list as CSV: address,reason,detail,created_at."""
    export = service.export_suppressions(
        session=session, caller=caller, database=database, account_id=account_id
    )
    return StreamingResponse(
        export.chunks,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{export.filename}"'},
    )


@router.post("/import", openapi_extra=_CSV_BODY)
def import_suppressions(
    session: DbSession, caller: CurrentCaller, account_id: int, content: CsvBody
) -> dict[str, Any]:
    """Add the addresses of a CSV file (header optional); reports invalid lines by number."""
    report = service.import_suppressions(
        session=session, caller=caller, account_id=account_id, content=content
    )
    return resources(report)


@router.delete("/{address}", status_code=204)
def remove_suppression(
    session: DbSession, caller: CurrentCaller, account_id: int, address: str
) -> Response:
    """Take an address off the list."""
    service.remove_suppression(
        session=session, caller=caller, account_id=account_id, address=address
    )
    return Response(status_code=204)
