"""A field officer sees full ID numbers and evidence files only at the door: for a case assigned to them, until its
check is recorded. Afterwards, and on every other case, 6+4 masks and no evidence."""

from __future__ import annotations

import re
from datetime import timedelta

from factories import make_case
from sqlalchemy import select

from verifier.store.tables import User, Visit

PHOTO = b"\x89PNG\r\n\x1a\n" + bytes(range(200))
FULL_ID = re.compile(r"^\d{17}[\dX]$")
MASKED_ID = re.compile(r"^\d{6}\*+\d{3}[\dX]$")


def _login(client, username: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    r = client.post("/api/auth/login", json={"username": username, "password": "factory-password"})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def _officers(ctx, case_id: str) -> list[str]:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        ids = session.scalar(select(Visit.officer_ids).where(Visit.case_id == case_id, Visit.active.is_(True)))
        return [session.get(User, i).username for i in ids]


def _ids(client, case_id: str, headers: dict[str, str]) -> list[str]:  # type: ignore[no-untyped-def]
    body = client.get(f"/api/cases/{case_id}", headers=headers).json()
    return [r["id_number"] for r in body["referrals"]] + [m["id_number"] for c in body["checks"] for m in c["members"]]


def test_the_officer_loses_full_ids_and_evidence_once_the_check_is_recorded(client, users, ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="scheduled")
    first, second = _officers(ctx, case_id)
    me = _login(client, first)
    ids = _ids(client, case_id, me)
    assert ids and all(FULL_ID.match(i) for i in ids)
    r = client.post(f"/api/cases/{case_id}/evidence", headers=me, files={"file": ("p.png", PHOTO, "image/png")})
    assert r.status_code == 201, r.text
    sha = r.json()["sha256"]
    assert client.get(f"/cases/{case_id}/evidence/{sha}", headers=me).content == PHOTO

    head = client.get(f"/api/cases/{case_id}", headers=me).json()["referrals"][0]
    check = {
        "visited_on": (ctx.clock.today() - timedelta(days=0)).isoformat(), "officers": [first, second],
        "members": [{"name": head["name"], "id_number": ids[0], "relation": "head", "labour": "full"}],
        "income": {"wages": "3000.00"}, "rigid_expenditure": {"medical_self_paid": "42000.00"},
        "stable_income": False, "evidence": [sha],
    }
    r = client.post(f"/api/cases/{case_id}/check", headers=me, json=check)
    assert r.status_code == 201, r.text

    # The check is recorded: the same officer now sees masks, and the photo is refused.
    after = _ids(client, case_id, me)
    assert len(after) == 2 and all(MASKED_ID.match(i) for i in after), after
    r = client.get(f"/cases/{case_id}/evidence/{sha}", headers=me)
    assert r.status_code == 403 and PHOTO not in r.content
    assert f"/cases/{case_id}/evidence/{sha}" not in client.get(f"/cases/{case_id}", headers=me).text
    # Those who review the check still read the evidence.
    users.add("supervisor-x", "insurer_supervisor", counties=("340223",))
    assert client.get(f"/cases/{case_id}/evidence/{sha}", headers=users.headers("supervisor-x")).content == PHOTO


def test_an_officer_never_sees_them_on_a_case_not_assigned_to_them(client, users, ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="scheduled")
    assigned = _login(client, _officers(ctx, case_id)[0])
    r = client.post(f"/api/cases/{case_id}/evidence", headers=assigned, files={"file": ("p.png", PHOTO, "image/png")})
    sha = r.json()["sha256"]
    users.add("officer-elsewhere", "field_officer", counties=("340223",))
    users.add("officer-other-county", "field_officer", counties=("340224",))
    colleague = users.headers("officer-elsewhere")
    ids = _ids(client, case_id, colleague)
    assert ids and all(MASKED_ID.match(i) for i in ids)
    r = client.get(f"/cases/{case_id}/evidence/{sha}", headers=colleague)
    assert r.status_code == 403 and PHOTO not in r.content
    r = client.get(f"/cases/{case_id}/evidence/{sha}", headers=users.headers("officer-other-county"))
    assert r.status_code == 404 and PHOTO not in r.content
    # A case checked long ago by others: masked for them too.
    done = make_case(ctx, stage="determined")
    assert all(MASKED_ID.match(i) for i in _ids(client, done, colleague))
