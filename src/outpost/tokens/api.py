"""Management API routes for the Send API tokens of a delivery account."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from outpost.api.deps import CurrentCaller, DbSession, Paging
from outpost.schemas import resources
from outpost.tokens import service
from outpost.tokens.schemas import TokenCreate, TokenCreated, TokenOut, TokenUpdate

router = APIRouter(prefix="/accounts/{account_id}/tokens", tags=["send tokens"])


@router.get("")
def list_tokens(
    session: DbSession, caller: CurrentCaller, account_id: int, paging: Paging
) -> dict[str, Any]:
    """The account's tokens, masked."""
    page = service.list_tokens(session=session, caller=caller, account_id=account_id, params=paging)
    return {
        "resources": [TokenOut.model_validate(t) for t in page.items],
        "pagination": page.pagination,
    }


@router.post("", status_code=201)
def create_token(
    session: DbSession, caller: CurrentCaller, account_id: int, data: TokenCreate
) -> dict[str, Any]:
    """Create a token; its full value is in this answer only."""
    created = service.create_token(session=session, caller=caller, account_id=account_id, data=data)
    out = TokenOut.model_validate(created.token).model_dump()
    return resources(TokenCreated.model_validate({**out, "token": created.value}))


@router.get("/{token_id}")
def get_token(
    session: DbSession, caller: CurrentCaller, account_id: int, token_id: int
) -> dict[str, Any]:
    """One token, masked."""
    token = service.get_token(
        session=session, caller=caller, account_id=account_id, token_id=token_id
    )
    return resources(TokenOut.model_validate(token))


@router.put("/{token_id}")
def update_token(
    session: DbSession, caller: CurrentCaller, account_id: int, token_id: int, data: TokenUpdate
) -> dict[str, Any]:
    """Rename a token or change its IP allow-list."""
    token = service.update_token(
        session=session, caller=caller, account_id=account_id, token_id=token_id, data=data
    )
    return resources(TokenOut.model_validate(token))


@router.delete("/{token_id}", status_code=204)
def delete_token(
    session: DbSession, caller: CurrentCaller, account_id: int, token_id: int
) -> Response:
    """Revoke a token."""
    service.delete_token(session=session, caller=caller, account_id=account_id, token_id=token_id)
    return Response(status_code=204)
