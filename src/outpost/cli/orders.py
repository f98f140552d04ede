"""``outpost admin orders …``: see, pay and cancel orders."""

from __future__ import annotations

from typing import Annotated

import typer

from outpost.billing import service
from outpost.billing.models import OrderKind
from outpost.billing.schemas import OrderFilters
from outpost.billing.service import OrderView
from outpost.cli.common import operator_session, print_table
from outpost.money import format_amount
from outpost.pagination import PageParams

app = typer.Typer(help="Orders for delivery accounts.", no_args_is_help=True)

_COLUMNS = ["id", "status", "kind", "account", "customer", "plan", "messages", "amount"]
_COLUMNS += ["created", "paid"]


def _row(view: OrderView) -> list[object]:
    o = view.order
    return [
        o.id,
        o.status,
        o.kind,
        o.account_id,
        o.org_id,
        view.plan.code,
        o.messages,
        f"{format_amount(o.amount_cents)} {o.currency}",
        f"{o.created_at:%Y-%m-%d %H:%M}",
        f"{o.paid_at:%Y-%m-%d %H:%M}" if o.paid_at else None,
    ]


@app.command("list")
def list_orders(
    status: Annotated[str | None, typer.Option(help="pending, paid or cancelled.")] = None,
    account_id: Annotated[int | None, typer.Option(help="Only this account's.")] = None,
    kind: Annotated[OrderKind | None, typer.Option(help="Only this kind.")] = None,
    page: int = 1,
    per: int = 50,
) -> None:
    """List orders, newest first."""
    with operator_session() as (session, caller):
        result = service.list_orders(
            session=session,
            caller=caller,
            params=PageParams(page=page, per=per, status=status),
            filters=OrderFilters(account_id=account_id, kind=kind),
        )
        info = result.pagination
        print_table(
            f"Orders (page {page}/{info.total_pages}, {info.total_records} in all)",
            _COLUMNS,
            [_row(v) for v in result.items],
        )


@app.command("pay")
def pay(order_id: int) -> None:
    """Record an order's payment and apply it to its account."""
    with operator_session() as (session, caller):
        view = service.pay_order(session=session, caller=caller, order_id=order_id)
        print_table("Paid", _COLUMNS, [_row(view)])


@app.command("cancel")
def cancel(order_id: int) -> None:
    """Cancel a pending order."""
    with operator_session() as (session, caller):
        view = service.cancel_order(session=session, caller=caller, order_id=order_id)
        print_table("Cancelled", _COLUMNS, [_row(view)])
