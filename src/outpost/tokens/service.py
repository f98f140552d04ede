"""Send API tokens of delivery accounts: shown once, stored as SHA-256, optionally IP-bound."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from outpost.accounts.models import DeliveryAccount
from outpost.accounts.service import get_account
from outpost.db import utcnow
from outpost.errors import NotFound, Unauthorized, ValidationFailed
from outpost.netaccess import normalize_allowlist
from outpost.pagination import Page, PageParams, paginate
from outpost.security import new_token, token_hash
from outpost.tenancy.scope import Caller, require_write
from outpost.tokens.models import SendToken
from outpost.tokens.schemas import TokenCreate, TokenUpdate

SEND_TOKEN_PREFIX = "ops_"  # noqa: S105 - a public prefix, not a secret
MAX_TOKENS_PER_ACCOUNT = 100
# last_used_at is informational: at most one write a minute per token, not one per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class CreatedToken:
    """A new token: its row and the full value, shown this once."""

    token: SendToken
    value: str


def list_tokens(
    *, session: Session, caller: Caller, account_id: int, params: PageParams
) -> Page[SendToken]:
    """A page of an account's tokens, masked."""
    account = get_account(session=session, caller=caller, account_id=account_id)
    statement = select(SendToken).where(SendToken.account_id == account.id)
    if params.query:
        statement = statement.where(SendToken.name.ilike(f"%{params.query}%"))
    return paginate(
        session,
        statement,
        params,
        sortable={
            "name": SendToken.name,
            "created_at": SendToken.created_at,
            "last_used_at": SendToken.last_used_at,
        },
        default_sort=[SendToken.created_at.asc()],
        tiebreak=SendToken.id,
    )


def create_token(
    *, session: Session, caller: Caller, account_id: int, data: TokenCreate
) -> CreatedToken:
    """A new token for the account; only its hash and a masked preview are kept."""
    require_write(caller)
    account = get_account(session=session, caller=caller, account_id=account_id)
    allowlist = normalize_allowlist(data.ip_allowlist)
    count = session.scalar(
        select(func.count()).select_from(SendToken).where(SendToken.account_id == account.id)
    )
    if (count or 0) >= MAX_TOKENS_PER_ACCOUNT:
        raise ValidationFailed.one(
            "name", f"the account already has {MAX_TOKENS_PER_ACCOUNT} tokens; delete one first"
        )
    secret = new_token(SEND_TOKEN_PREFIX)
    token = SendToken(
        account_id=account.id,
        name=data.name,
        token_hash=secret.hash,
        preview=secret.preview,
        ip_allowlist=allowlist,
    )
    session.add(token)
    session.flush()
    return CreatedToken(token=token, value=secret.value)


def get_token(*, session: Session, caller: Caller, account_id: int, token_id: int) -> SendToken:
    """A token of an account the caller may see; any other id is NotFound."""
    account = get_account(session=session, caller=caller, account_id=account_id)
    token = session.scalar(
        select(SendToken).where(SendToken.id == token_id, SendToken.account_id == account.id)
    )
    if token is None:
        raise NotFound("Token not found.")
    return token


def update_token(
    *, session: Session, caller: Caller, account_id: int, token_id: int, data: TokenUpdate
) -> SendToken:
    """Rename a token or change its IP allow-list (applied on top of the account's)."""
    require_write(caller)
    token = get_token(session=session, caller=caller, account_id=account_id, token_id=token_id)
    if data.name is not None:
        token.name = data.name
    if data.ip_allowlist is not None:
        token.ip_allowlist = normalize_allowlist(data.ip_allowlist)
    session.flush()
    return token


def delete_token(*, session: Session, caller: Caller, account_id: int, token_id: int) -> None:
    """Revoke a token: requests bearing it fail from now on."""
    require_write(caller)
    token = get_token(session=session, caller=caller, account_id=account_id, token_id=token_id)
    session.delete(token)
    session.flush()


def authenticate_send_token(*, session: Session, token: str) -> tuple[SendToken, DeliveryAccount]:
    """The token and account a bearer token stands for; Unauthorized when it is unknown.

    It checks neither the account's status nor any IP list: ``sending.accept`` does.
    """
    if not token.startswith(SEND_TOKEN_PREFIX):
        raise Unauthorized("Invalid send token.")
    row = session.execute(
        select(SendToken, DeliveryAccount)
        .join(DeliveryAccount, DeliveryAccount.id == SendToken.account_id)
        .where(SendToken.token_hash == token_hash(token))
    ).first()
    if row is None:
        raise Unauthorized("Invalid send token.")
    send_token, account = row
    return send_token, account


def touch_last_used(*, session: Session, token: SendToken, now: datetime | None = None) -> bool:
    """Record that ``token`` was used, at most once a minute; returns whether it wrote."""
    now = now or utcnow()
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_RESOLUTION:
        return False
    stale = now - LAST_USED_RESOLUTION
    result = session.execute(
        update(SendToken)
        .where(
            SendToken.id == token.id,
            or_(SendToken.last_used_at.is_(None), SendToken.last_used_at <= stale),
        )
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
    # Mirror the row without marking the object dirty (which would write it a second time).
    set_committed_value(token, "last_used_at", now)
    return bool(getattr(result, "rowcount", 0))
