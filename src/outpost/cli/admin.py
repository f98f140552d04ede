"""``outpost admin …``: the operator's scripting interface."""

from __future__ import annotations

from typing import Annotated

import typer

from outpost.cli import accounts, orders, suppressions
from outpost.cli.common import operator_session, print_table
from outpost.money import format_amount
from outpost.pagination import PageParams
from outpost.plans import service as plans
from outpost.tenancy import service as tenancy
from outpost.tenancy.models import OrgKind
from outpost.tenancy.schemas import OrganizationCreate

app = typer.Typer(
    help="Administer organizations, plans, accounts and orders.", no_args_is_help=True
)
orgs_app = typer.Typer(help="Resellers and customers.", no_args_is_help=True)
plans_app = typer.Typer(help="The plan catalog.", no_args_is_help=True)
app.add_typer(orgs_app, name="orgs")
app.add_typer(plans_app, name="plans")
app.add_typer(accounts.app, name="accounts")
app.add_typer(orders.app, name="orders")
app.add_typer(suppressions.app, name="suppressions")


@orgs_app.command("list")
def orgs_list(
    query: Annotated[str | None, typer.Option(help="Search in names.")] = None,
    kind: Annotated[OrgKind | None, typer.Option(help="Only this kind.")] = None,
    page: int = 1,
    per: int = 50,
) -> None:
    """List organizations."""
    with operator_session() as (session, caller):
        result = tenancy.list_organizations(
            session=session,
            caller=caller,
            params=PageParams(page=page, per=per, query=query),
            kind=kind,
        )
        rows = [
            (o.id, o.kind, o.parent_id, o.name, o.status, o.service_package) for o in result.items
        ]
        info = result.pagination
        print_table(
            f"Organizations (page {page}/{info.total_pages}, {info.total_records} in all)",
            ["id", "kind", "parent", "name", "status", "package"],
            rows,
        )


@orgs_app.command("create")
def orgs_create(
    name: str,
    kind: Annotated[OrgKind, typer.Option(help="reseller or customer.")] = OrgKind.customer,
    parent_id: Annotated[int | None, typer.Option(help="Reseller to put a customer under.")] = None,
    owner_email: Annotated[
        str | None, typer.Option(help="Create an owner with this e-mail.")
    ] = None,
) -> None:
    """Create a reseller or customer."""
    with operator_session() as (session, caller):
        data = OrganizationCreate.model_validate(
            {"kind": kind, "name": name, "parent_id": parent_id, "owner_email": owner_email}
        )
        created = tenancy.create_organization(session=session, caller=caller, data=data)
        org = created.organization
        print_table(
            "Created",
            ["id", "kind", "parent", "name"],
            [(org.id, org.kind, org.parent_id, org.name)],
        )
        if created.generated_password:
            typer.echo(f"Owner {owner_email} password (shown once): {created.generated_password}")


@plans_app.command("list")
def plans_list() -> None:
    """Show the plan catalog with its tiers."""
    with operator_session() as (session, _caller):
        rows = [
            (
                p.code,
                p.name,
                p.kind,
                ", ".join(f"{t['messages']}: {format_amount(t['price_cents'])}" for t in p.tiers),
                p.currency,
                p.max_domains,
                p.send_rate_per_hour,
                "yes" if p.active else "no",
            )
            for p in plans.list_plans(session=session, include_inactive=True)
        ]
        print_table(
            "Plans",
            [
                "code",
                "name",
                "kind",
                "tiers (messages: price)",
                "cur.",
                "max domains",
                "rate/h",
                "active",
            ],
            rows,
        )
