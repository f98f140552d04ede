"""Delivery accounts, always seen through the caller's scope."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from outpost.accounts.models import DeliveryAccount
from outpost.errors import NotFound
from outpost.tenancy.scope import Caller, visible_orgs


def get_account(*, session: Session, caller: Caller, account_id: int) -> DeliveryAccount:
    """An account the caller may see; any other id is NotFound."""
    account = session.scalar(
        select(DeliveryAccount).where(
            DeliveryAccount.id == account_id, visible_orgs(caller, DeliveryAccount.org_id)
        )
    )
    if account is None:
        raise NotFound("Delivery account not found.")
    return account
