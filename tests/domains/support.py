"""Helpers for domain tests: add a domain through the API and publish its records."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.support.dns_server import Zone


def add_domain(
    client: TestClient, headers: dict[str, str], name: str, org_id: int | None = None
) -> dict[str, Any]:
    """Create a domain through the API; returns its resource."""
    body: dict[str, Any] = {"name": name}
    if org_id is not None:
        body["org_id"] = org_id
    response = client.post("/api/v1/domains", headers=headers, json=body)
    assert response.status_code == 201, response.text
    resource: dict[str, Any] = response.json()["resources"][0]
    return resource


def publish(zone: Zone, domain: dict[str, Any], *, skip: tuple[str, ...] = ()) -> None:
    """Publish every record the API lists for ``domain``, except the purposes in ``skip``."""
    for record in domain["dns_records"]:
        if record["purpose"] in skip:
            continue
        if record["type"] == "TXT":
            zone.add_txt(record["name"], record["value"])
        else:
            zone.add(record["name"], record["type"], record["value"] + ".")


def records(domain: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The domain's DNS records by purpose."""
    return {r["purpose"]: r for r in domain["dns_records"]}


def verify(client: TestClient, headers: dict[str, str], domain_id: int) -> dict[str, Any]:
    """Run verification through the API; returns the domain resource."""
    response = client.post(f"/api/v1/domains/{domain_id}/verify", headers=headers)
    assert response.status_code == 200, response.text
    resource: dict[str, Any] = response.json()["resources"][0]
    return resource
