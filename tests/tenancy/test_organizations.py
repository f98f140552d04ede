"""Organizations through the Management API: who may create, see and change what."""

from __future__ import annotations

from fastapi.testclient import TestClient

from outpost.tenancy.models import Role
from tests.factories import Factory


def test_missing_or_wrong_key_is_401(client: TestClient, factory: Factory) -> None:
    assert client.get("/api/v1/organizations").status_code == 401
    response = client.get("/api/v1/organizations", headers={"X-Api-Token": "opk_nope"})
    assert response.status_code == 401
    assert response.json()["message"] == "Unauthorized"
    assert response.json()["errors"] == []


def test_operator_creates_reseller_and_reseller_creates_customer(
    client: TestClient, factory: Factory
) -> None:
    operator = factory.operator()
    response = client.post(
        "/api/v1/organizations",
        headers=operator.headers,
        json={
            "kind": "reseller",
            "name": "Acme Hosting",
            "service_package": "gold",
            "billing": {"customer_type": "company", "company_name": "Acme", "country": "IT"},
            "owner_email": "boss@acme.example",
        },
    )
    assert response.status_code == 201, response.text
    reseller = response.json()["resources"][0]
    assert reseller["kind"] == "reseller"
    assert reseller["parent_id"] == operator.org_id
    assert reseller["owner_email"] == "boss@acme.example"
    assert len(reseller["owner_password"]) >= 20

    reseller_key = factory.key(reseller["id"])
    response = client.post(
        "/api/v1/organizations",
        headers=reseller_key,
        json={
            "kind": "customer",
            "name": "Hotel Bella Vista",
            "restrictions": {"max_accounts_per_plan": {"free": 1}},
        },
    )
    assert response.status_code == 201, response.text
    customer = response.json()["resources"][0]
    assert customer["parent_id"] == reseller["id"]
    assert customer["restrictions"]["max_accounts_per_plan"] == {"free": 1}
    assert customer["owner_password"] is None


def test_reseller_cannot_create_reseller_and_customer_cannot_create_anything(
    client: TestClient, factory: Factory
) -> None:
    reseller = factory.reseller()
    response = client.post(
        "/api/v1/organizations", headers=reseller.headers, json={"kind": "reseller", "name": "Sub"}
    )
    assert response.status_code == 403
    customer = factory.customer()
    response = client.post(
        "/api/v1/organizations", headers=customer.headers, json={"kind": "customer", "name": "X"}
    )
    assert response.status_code == 403


def test_validation_errors_use_the_qboxmail_shape(client: TestClient, factory: Factory) -> None:
    operator = factory.operator()
    response = client.post(
        "/api/v1/organizations",
        headers=operator.headers,
        json={"kind": "customer", "name": "", "billing": {"country": "Italy"}, "surprise": 1},
    )
    assert response.status_code == 422
    body = response.json()
    assert body["message"] == "Validation failed"
    fields = {e["field"] for e in body["errors"]}
    assert {"name", "billing.country", "surprise"} <= fields


def test_malformed_json_is_a_422_with_a_body_error(client: TestClient, factory: Factory) -> None:
    operator = factory.operator()
    response = client.post(
        "/api/v1/organizations",
        headers={**operator.headers, "Content-Type": "application/json"},
        content=b'{"kind": "customer", ',
    )
    assert response.status_code == 422
    assert response.json()["errors"][0] == {"field": "body", "description": "is not valid JSON"}


def test_each_caller_sees_only_its_subtree(client: TestClient, factory: Factory) -> None:
    operator = factory.operator()
    reseller_a, reseller_b = factory.reseller("Reseller A"), factory.reseller("Reseller B")
    a1 = factory.customer(reseller_a, "Customer A1")
    b1 = factory.customer(reseller_b, "Customer B1")
    direct = factory.customer(None, "Direct customer")

    def names(headers: dict[str, str]) -> set[str]:
        response = client.get("/api/v1/organizations?per=100", headers=headers)
        assert response.status_code == 200
        return {o["name"] for o in response.json()["resources"]}

    assert {"Reseller A", "Reseller B", "Customer A1", "Customer B1", "Direct customer"} <= names(
        operator.headers
    )
    assert names(reseller_a.headers) == {"Reseller A", "Customer A1"}
    assert names(a1.headers) == {"Customer A1"}

    for caller, foreign in [
        (reseller_a, b1),
        (reseller_a, reseller_b),
        (reseller_a, direct),
        (a1, b1),
        (a1, reseller_a),
        (direct, a1),
        (reseller_a, operator),
    ]:
        for method in ("get", "delete"):
            response = client.request(
                method, f"/api/v1/organizations/{foreign.org_id}", headers=caller.headers
            )
            assert response.status_code == 404, (caller.name, foreign.name, method)
            assert response.json()["message"] == "Not found"
        response = client.put(
            f"/api/v1/organizations/{foreign.org_id}",
            headers=caller.headers,
            json={"name": "pwned"},
        )
        assert response.status_code == 404
    assert (
        client.get(f"/api/v1/organizations/{b1.org_id}", headers=operator.headers).json()[
            "resources"
        ][0]["name"]
        == "Customer B1"
    )


def test_customer_edits_its_profile_but_not_its_package(
    client: TestClient, factory: Factory
) -> None:
    reseller = factory.reseller()
    customer = factory.customer(reseller)
    url = f"/api/v1/organizations/{customer.org_id}"
    response = client.put(
        url,
        headers=customer.headers,
        json={"billing": {"firstname": "Ada"}, "accept_contract": True},
    )
    assert response.status_code == 200
    assert response.json()["resources"][0]["billing"]["firstname"] == "Ada"
    assert response.json()["resources"][0]["contract_accepted_at"] is not None
    assert (
        client.put(url, headers=customer.headers, json={"service_package": "gold"}).status_code
        == 403
    )
    response = client.put(
        url, headers=reseller.headers, json={"service_package": "gold", "status": "suspended"}
    )
    assert response.status_code == 200
    assert response.json()["resources"][0]["service_package"] == "gold"
    # A suspended organization's keys stop working.
    assert client.get("/api/v1/me", headers=customer.headers).status_code == 401


def test_read_only_keys_cannot_write(client: TestClient, factory: Factory) -> None:
    reseller = factory.reseller(role=Role.read_only)
    assert client.get("/api/v1/organizations", headers=reseller.headers).status_code == 200
    response = client.post(
        "/api/v1/organizations", headers=reseller.headers, json={"kind": "customer", "name": "X"}
    )
    assert response.status_code == 403
    assert response.json() == {
        "message": "Forbidden",
        "errors": [],
        "detail": "Only an owner or admin may do this.",
    }


def test_reseller_deletes_an_empty_customer(client: TestClient, factory: Factory) -> None:
    reseller = factory.reseller()
    customer = factory.customer(reseller)
    assert (
        client.delete(
            f"/api/v1/organizations/{customer.org_id}", headers=reseller.headers
        ).status_code
        == 204
    )
    assert (
        client.get(f"/api/v1/organizations/{customer.org_id}", headers=reseller.headers).status_code
        == 404
    )


def test_reseller_with_customers_cannot_be_deleted(client: TestClient, factory: Factory) -> None:
    operator = factory.operator()
    reseller = factory.reseller()
    factory.customer(reseller)
    response = client.delete(f"/api/v1/organizations/{reseller.org_id}", headers=operator.headers)
    assert response.status_code == 409
