"""Helpers of the insider tests: a case checked over HTTP by a team the caller chooses."""

from __future__ import annotations

from typing import Any

from factories import COUNTY, new_id_number


def check_body(head: str, officers: list[str], visited_on: str, account: str = "6222020200112233445",
               **income: str) -> dict[str, Any]:
    return {
        "visited_on": visited_on, "officers": officers,
        "members": [{"name": head, "id_number": new_id_number(), "relation": "head", "labour": "partial"}],
        "income": {"wages": "3000.00", "business_net": "0.00", "property_net": "0.00", "transfer_net": "0.00",
                   "productive_costs": "0.00", **income},
        "rigid_expenditure": {"medical_self_paid": "40000.00", "schooling": "0.00", "disaster_loss": "0.00"},
        "stable_income": False,
        "payee": {"account_name": head, "bank": "农村商业银行", "account_number": account},
        "cross_checks": [], "evidence": [], "note": "",
    }


def schedule(client: Any, headers: dict[str, str], case_id: str, officers: list[str], visit_on: str,
             vehicle: str = "车01") -> None:
    r = client.post(f"/api/cases/{case_id}/schedule", headers=headers,
                    json={"officers": officers, "visit_on": visit_on, "vehicle": vehicle})
    assert r.status_code == 200, r.text


def head_of(client: Any, headers: dict[str, str], case_id: str) -> str:
    r = client.get(f"/api/cases/{case_id}", headers=headers)
    assert r.status_code == 200, r.text
    return str(r.json()["referrals"][0]["name"])


__all__ = ["COUNTY", "check_body", "head_of", "schedule"]
