"""``outpost admin accounts …``: delivery accounts from the operator's seat."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

import typer
from pydantic import BaseModel
from pydantic import ValidationError as PydanticError

from outpost.accounts import listing, service
from outpost.accounts.listing import AccountView
from outpost.accounts.models import AccountType, PaymentMethod
from outpost.accounts.schemas import AccountCreate, AccountFilters
from outpost.cli.common import console, operator_session, print_table, settings
from outpost.errors import FieldError, ValidationFailed
from outpost.pagination import PageParams

Model = TypeVar("Model", bound=BaseModel)

app = typer.Typer(help="Delivery accounts.", no_args_is_help=True)

_COLUMNS = ["id", "status", "description", "username", "customer", "domains", "remaining"]
_COLUMNS += ["type", "plan"]


def validated(model: type[Model], data: dict[str, Any]) -> Model:
    """``data`` as ``model``; invalid input is reported like the API's validation errors."""
    try:
        return model.model_validate(data)
    except PydanticError as exc:
        errors = [FieldError(".".join(map(str, e["loc"])), e["msg"]) for e in exc.errors()]
        raise ValidationFailed(errors) from None


def _row(view: AccountView) -> list[Any]:
    a = view.account
    return [
        a.id,
        a.status,
        a.description,
        a.username,
        view.org_name,
        f"{view.domains_used}/{view.plan.max_domains}",
        a.remaining,
        a.type,
        view.plan.code,
    ]


def _show(view: AccountView, title: str = "Account") -> None:
    a = view.account
    fields = {
        "id": a.id,
        "description": a.description,
        "customer": f"{view.org_name} ({a.org_id})",
        "username": a.username,
        "status": a.status,
        "type": a.type,
        "plan": f"{view.plan.name} ({view.plan.code})",
        "payment method": a.payment_method,
        "domains": f"{view.domains_used}/{view.plan.max_domains}",
        "messages": f"{a.used} used of {a.plan_messages}",
        "extra messages": f"{a.extra_used} used of {a.extra_messages}",
        "remaining": a.remaining,
        "period": f"{a.period_start} → {a.period_end}" if a.period_end else None,
        "expires": a.expires_at,
        "extra expire": a.extra_expires_at,
        "pending order": "yes" if view.has_pending_order else "no",
        "bounce alert": a.bounce_alert_email,
        "suppression list": "applied" if a.suppression_enabled else "ignored",
        "IP allow-list": ", ".join(a.ip_allowlist) or "any",
    }
    print_table(title, ["field", "value"], list(fields.items()))


@app.command("list")
def list_accounts(
    status: Annotated[str | None, typer.Option(help="enabled, awaiting_payment, …")] = None,
    kind: Annotated[
        str | None, typer.Option("--type", help="transactional or promotional.")
    ] = None,
    plan: Annotated[str | None, typer.Option(help="Plan code.")] = None,
    org_id: Annotated[int | None, typer.Option(help="Only this customer's.")] = None,
    query: Annotated[str | None, typer.Option(help="Search description and username.")] = None,
    sort_field: Annotated[str | None, typer.Option(help="e.g. remaining, description.")] = None,
    page: int = 1,
    per: int = 50,
) -> None:
    """List delivery accounts."""
    with operator_session() as (session, caller):
        params = validated(
            PageParams,
            {"page": page, "per": per, "query": query, "status": status, "sort_field": sort_field},
        )
        filters = validated(AccountFilters, {"type": kind, "plan": plan, "org_id": org_id})
        result = listing.list_accounts(
            session=session, caller=caller, params=params, filters=filters
        )
        info = result.pagination
        print_table(
            f"Accounts (page {page}/{info.total_pages}, {info.total_records} in all)",
            _COLUMNS,
            [_row(v) for v in result.items],
        )


@app.command("show")
def show(account_id: int) -> None:
    """Show one account with its quota and settings."""
    with operator_session() as (session, caller):
        _show(service.get_account_view(session=session, caller=caller, account_id=account_id))


@app.command("create")
def create(
    org_id: Annotated[int, typer.Option(help="The customer organization.")],
    description: Annotated[str, typer.Option(help="What the account is for.")],
    plan: Annotated[str, typer.Option(help="Plan code.")] = "free",
    kind: Annotated[
        AccountType, typer.Option("--type", help="Kind of mail.")
    ] = AccountType.transactional,
    messages: Annotated[int | None, typer.Option(help="One of the plan's tiers.")] = None,
    payment_method: Annotated[PaymentMethod | None, typer.Option(help="For paid plans.")] = None,
) -> None:
    """Create an account for a customer; prints the SMTP password once."""
    with operator_session() as (session, caller):
        data = validated(
            AccountCreate,
            {
                "org_id": org_id,
                "description": description,
                "plan": plan,
                "type": kind,
                "messages": messages,
                "payment_method": payment_method,
            },
        )
        created = service.create_account(
            session=session, settings=settings(), caller=caller, data=data
        )
        _show(created.account, "Created")
        console.print(f"SMTP password (shown once): {created.password}")
        if created.order is not None:
            order = created.order.order
            console.print(
                f"Order {order.id} waits for payment: `outpost admin orders pay {order.id}`"
            )


def _set_status(account_id: int, status: str) -> None:
    with operator_session() as (session, caller):
        view = service.change_status(
            session=session, caller=caller, account_id=account_id, status=status
        )
        print_table("Status", _COLUMNS, [_row(view)])


@app.command("status")
def set_status(
    account_id: int, status: Annotated[str, typer.Argument(help="enabled or disabled.")]
) -> None:
    """Enable or disable an account."""
    if status not in ("enabled", "disabled"):
        raise typer.BadParameter("must be enabled or disabled", param_hint="STATUS")
    _set_status(account_id, status)


@app.command("block")
def block(account_id: int) -> None:
    """Block an account; unblocking returns it to its status before."""
    _set_status(account_id, "blocked")


@app.command("unblock")
def unblock(account_id: int) -> None:
    """Lift a block."""
    _set_status(account_id, "unblocked")


@app.command("reset-password")
def reset_password(account_id: int) -> None:
    """Issue a new SMTP password and print it once."""
    with operator_session() as (session, caller):
        username, password = service.reset_password(
            session=session, caller=caller, account_id=account_id
        )
        console.print(f"New SMTP password for {username} (shown once): {password}")


@app.command("terminate")
def terminate(
    account_id: int,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete an account, its domain links, tokens and suppression list."""
    if not yes:
        typer.confirm(f"Delete account {account_id} and its suppression list?", abort=True)
    with operator_session() as (session, caller):
        service.terminate_account(session=session, caller=caller, account_id=account_id)
    console.print(f"Account {account_id} terminated.")
