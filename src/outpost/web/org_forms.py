"""The organization forms: what the panel sends the tenancy service, and back."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.datastructures import FormData

from outpost.plans.models import Plan
from outpost.tenancy.models import Organization, OrgKind, ServicePackage
from outpost.tenancy.schemas import (
    BillingProfile,
    OrganizationCreate,
    OrganizationUpdate,
)
from outpost.web.forms import flatten, optional, raw, text, validate

SERVICE_PACKAGES = [
    (ServicePackage.reseller, "Reseller", "You support this customer yourself, at no cost."),
    (ServicePackage.silver, "Silver", "The operator supports the customer at Silver level."),
    (ServicePackage.gold, "Gold", "The operator supports the customer at Gold level."),
    (ServicePackage.platinum, "Platinum", "The operator supports the customer at Platinum level."),
]
CUSTOMER_TYPES = [("private", "Private person"), ("company", "Company"), ("reseller", "Reseller")]
BILLING_FIELDS: list[tuple[str, str, str]] = [
    # (field, label, autocomplete)
    ("firstname", "First name", "given-name"),
    ("lastname", "Last name", "family-name"),
    ("company_name", "Company name", "organization"),
    ("email_address", "Billing e-mail", "email"),
    ("phone", "Phone", "tel"),
    ("address1", "Address", "address-line1"),
    ("city", "City", "address-level2"),
    ("postcode", "Postcode", "postal-code"),
    ("state", "State or province", "address-level1"),
    ("country", "Country (ISO code, e.g. IT)", "country"),
    ("vat", "VAT number", "off"),
    ("fiscal_code", "Fiscal code", "off"),
]


def billing_from(form: FormData) -> dict[str, Any]:
    """The billing profile fields of a form (`billing.<field>`), as the service takes them."""
    billing: dict[str, Any] = {
        name: text(form, f"billing.{name}") for name in BillingProfile.model_fields
    }
    billing["customer_type"] = text(form, "billing.customer_type") or "private"
    billing["email_address"] = optional(form, "billing.email_address")
    billing["country"] = billing["country"].upper()
    return billing


def _restrictions(form: FormData, plans: Sequence[Plan]) -> dict[str, Any]:
    per_plan = {
        plan.code: value
        for plan in plans
        if (value := optional(form, f"restrictions.max_accounts_per_plan.{plan.code}"))
    }
    return {
        "max_accounts_per_plan": per_plan,
        "max_mailing_lists": optional(form, "restrictions.max_mailing_lists"),
    }


def creation_from(form: FormData, *, kind: OrgKind, plans: Sequence[Plan]) -> OrganizationCreate:
    """A new organization from the creation form."""
    data: dict[str, Any] = {
        "kind": kind,
        "name": text(form, "name"),
        "parent_id": optional(form, "parent_id"),
        "billing": billing_from(form),
        "owner_email": optional(form, "owner_email"),
        "owner_password": raw(form, "owner_password") or None,
    }
    if kind is OrgKind.customer:
        data["service_package"] = text(form, "service_package") or ServicePackage.reseller
        data["restrictions"] = _restrictions(form, plans)
    return validate(OrganizationCreate, data)


def update_from(
    form: FormData, *, org: Organization, managed: bool, plans: Sequence[Plan]
) -> OrganizationUpdate:
    """Changes from the edit form; only a manager sends status, package and restrictions."""
    data: dict[str, Any] = {"name": text(form, "name"), "billing": billing_from(form)}
    if managed:
        data["status"] = text(form, "status")
        if org.kind is OrgKind.customer:
            data["service_package"] = text(form, "service_package")
            data["restrictions"] = _restrictions(form, plans)
    return validate(OrganizationUpdate, data)


def form_values(org: Organization) -> dict[str, str]:
    """An organization as the edit form's field values."""
    return flatten(
        {
            "name": org.name,
            "status": org.status.value,
            "service_package": org.service_package.value,
            "billing": org.billing,
            "restrictions": org.restrictions,
        }
    )
