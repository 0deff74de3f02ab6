"""`GET /api/cases/{id}` reads the case with the session lookup, in one batch (one round trip on PostgreSQL), and
hands on nothing of it when the session, the user or the county refuses the caller."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from factories import STAGES, make_case
from test_faults import relayed  # noqa: F401  (a fixture: PostgreSQL behind a relay to cut)

from verifier.accounts.auth import principal_of
from verifier.cases.present import read_case_detail
from verifier.store import reader as reader_module
from verifier.store.tables import Case, User

OTHER = "340224"


@pytest.fixture
def batches(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The SQL of every batch of prepared reads run, on either database (`Reader` on SQLite, `AsyncReader` on
    PostgreSQL), in order."""
    seen: list[list[str]] = []

    def sql(statements: Any) -> list[str]:
        return [str(prepared.statement) for prepared, _ in statements]

    blocking, awaited = reader_module.Reader.batch, reader_module.AsyncReader.batch

    def batch(self: Any, statements: Any) -> Any:
        seen.append(sql(statements))
        return blocking(self, statements)

    async def async_batch(self: Any, statements: Any) -> Any:
        seen.append(sql(statements))
        return await awaited(self, statements)

    monkeypatch.setattr(reader_module.Reader, "batch", batch)
    monkeypatch.setattr(reader_module.AsyncReader, "batch", async_batch)
    return seen


def _number(ctx: Any, case_id: str) -> str:
    with ctx.db.read() as session:
        return session.get(Case, case_id).number  # type: ignore[union-attr]


def test_the_case_is_read_with_the_session_in_one_batch(client, users, ctx, batches) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="determined")
    users.add("sup", "insurer_supervisor", counties=("340223",))
    headers = users.headers("sup")
    batches.clear()
    r = client.get(f"/api/cases/{case_id}", headers=headers)
    assert r.status_code == 200, r.text
    first, *rest = batches[0]
    assert "user_session" in first and "app_user" in first
    if ctx.db.is_sqlite:
        # The session and the case with what it has (one read transaction), then only the statements with rows.
        assert len(batches) == 2, batches
        assert len(rest) == 1 and "relief_case" in rest[0] and "EXISTS" in rest[0]
        assert any("audit_entry" in s for s in batches[1]) and any("home_check" in s for s in batches[1])
        assert not any("visit_attempt" in s or "objection" in s for s in batches[1])  # none for this case
    else:
        assert len(batches) == 1, batches  # the session and the whole case: one batch (one round trip)
        assert any("relief_case" in s for s in rest) and any("audit_entry" in s for s in rest)
    # The same detail as the case read on its own.
    with ctx.db.read() as session:
        who = principal_of(session.get(User, users.ids["sup"]))
    alone = read_case_detail(ctx.db, case_id, who, ctx.vault)
    assert r.content == msgspec.json.encode(alone)
    assert r.json()["checks"] and r.json()["determination"] and r.json()["history"]


@pytest.mark.parametrize("stage", STAGES)
def test_a_case_at_every_stage_reads_as_the_whole_batch_does(client, users, ctx, stage) -> None:  # type: ignore[no-untyped-def]
    """On SQLite only the statements the case has rows for are run: the detail is byte for byte the one every
    statement gives (`read_case_detail`, one batch), for an officer who sees full ID numbers and a supervisor who
    does not."""
    case_id = make_case(ctx, stage=stage)
    users.add("sup-s", "insurer_supervisor", counties=("340223",))
    users.add("admin-s", "admin")
    for name in ("sup-s", "admin-s"):
        r = client.get(f"/api/cases/{case_id}", headers=users.headers(name))
        assert r.status_code == 200, r.text
        with ctx.db.read() as session:
            who = principal_of(session.get(User, users.ids[name]))
        assert r.content == msgspec.json.encode(read_case_detail(ctx.db, case_id, who, ctx.vault))
    assert client.get("/api/cases/case_none", headers=users.headers("sup-s")).status_code == 404


def test_nothing_of_the_case_reaches_a_refused_caller(client, users, ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="determined")
    number = _number(ctx, case_id)
    users.add("admin-all", "admin")
    users.add("far", "insurer_supervisor", counties=(OTHER,))
    users.add("gone", "insurer_supervisor", counties=("340223",))
    users.add("ended", "insurer_supervisor", counties=("340223",))
    users.add("reset", "insurer_supervisor", counties=("340223",))
    admin = users.headers("admin-all")

    def refused(headers: dict[str, str], status: int) -> None:
        r = client.get(f"/api/cases/{case_id}", headers=headers)
        assert r.status_code == status, r.text
        assert number not in r.text and case_id not in r.text.replace(f"no case '{case_id}'", "")

    # Another county: as if the case did not exist.
    refused(users.headers("far"), 404)
    # A disabled user, an ended session: refused at once.
    gone = users.headers("gone")
    assert client.get(f"/api/cases/{case_id}", headers=gone).status_code == 200
    assert client.post(f"/api/users/{users.ids['gone']}/disable", headers=admin).status_code == 200
    refused(gone, 401)
    ended = users.headers("ended")
    assert client.post("/api/auth/logout", headers=ended).status_code in (200, 201)
    refused(ended, 401)
    # A password an administrator set: only changing it is open.
    r = client.post(f"/api/users/{users.ids['reset']}/password", headers=admin, json={"password": "set by the admin 1"})
    assert r.status_code == 200, r.text
    login = client.post("/api/auth/login", json={"username": "reset", "password": "set by the admin 1"})
    assert login.status_code == 200, login.text
    refused({"Authorization": f"Bearer {login.json()['token']}"}, 403)
    # An id longer than any: refused as before, its reads never sent.
    assert client.get(f"/api/cases/{'x' * 41}", headers=admin).status_code == 400
    assert client.get("/api/cases/case_none", headers=admin).status_code == 404
    assert client.get(f"/api/cases/{case_id}", headers=admin).json()["number"] == number


def test_a_case_read_on_a_lost_connection_is_answered_503_and_read_when_back(relayed, users) -> None:  # type: ignore[no-untyped-def]
    from litestar.testing import TestClient

    from verifier.app import create_app

    ctx, relay = relayed
    case_id = make_case(ctx, stage="checked")
    users.add("sup-near", "insurer_supervisor", counties=("340223",))
    with TestClient(app=create_app(ctx)) as client:
        token = client.post("/api/auth/login", json={"username": "sup-near", "password": "correct horse battery"})
        auth = {"Authorization": f"Bearer {token.json()['token']}"}
        assert client.get(f"/api/cases/{case_id}", headers=auth).status_code == 200
        relay.cut()
        r = client.get(f"/api/cases/{case_id}", headers=auth)
        assert r.status_code == 503, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        relay.mend()
        r = client.get(f"/api/cases/{case_id}", headers=auth)
        assert r.status_code == 200 and r.json()["id"] == case_id


def test_what_a_case_seldom_has_is_read_only_when_it_has_it(client, users, ctx, clock, batches) -> None:  # type: ignore[no-untyped-def]
    """On PostgreSQL a case's failed visits, the objections to its notices and its uploaded files are probed with
    its row: read in a second batch only when the case has some, and then only those it has; the detail is byte for
    byte the one every statement gives (`read_case_detail`, one batch). On SQLite every statement is probed."""
    from datetime import datetime, timezone

    from verifier.store.base import new_id
    from verifier.store.tables import Evidence, VisitAttempt

    users.add("clerk-o", "town_clerk", counties=("340223",))
    users.add("sup-o", "insurer_supervisor", counties=("340223",))
    clerk, sup = users.headers("clerk-o"), users.headers("sup-o")
    plain = make_case(ctx, stage="determined")
    case_id = make_case(ctx, village="东村", head_name="张三丰")
    r = client.post(f"/api/cases/{case_id}/village-review", headers=clerk,
                    json={"held_on": "2020-06-01", "result": "pass", "note": ""})
    assert r.status_code == 201, r.text
    r = client.post("/api/notices", headers=clerk,
                    json={"county_code": "340223", "town": "城关镇", "village": "东村", "posted_on": "2020-06-01"})
    assert r.status_code == 201, r.text
    clock.advance(days=3)
    r = client.post(f"/api/notices/{r.json()['id']}/objections", headers=clerk,
                    json={"case_id": case_id, "received_on": "2020-06-02", "summary": "反映该户有经营收入未申报"})
    assert r.status_code == 201, r.text
    with ctx.db.read() as session:
        who = principal_of(session.get(User, users.ids["sup-o"]))

    def read(case: str) -> list[list[str]]:
        batches.clear()
        r = client.get(f"/api/cases/{case}", headers=sup)
        sent = list(batches)
        assert r.status_code == 200, r.text
        assert r.content == msgspec.json.encode(read_case_detail(ctx.db, case, who, ctx.vault))
        return sent

    plain_batches = read(plain)
    assert len(plain_batches) == (2 if ctx.db.is_sqlite else 1)
    if not ctx.db.is_sqlite:  # the session, five of the detail's statements, and the case's row with its latest
        # determination, village review and notice beside it (each of those read once, in that statement)
        first = plain_batches[0]
        assert len(first) == 7, first
        assert [sum(f"FROM {t} " in s for s in first) for t in ("determination", "village_review", "notice_item")] \
            == [1, 1, 1] and "AS beside_0" in first[-1]
    with_objection = read(case_id)
    if not ctx.db.is_sqlite:
        assert len(with_objection) == 2 and len(with_objection[1]) == 1 and "objection" in with_objection[1][0]
    assert client.get(f"/api/cases/{case_id}", headers=sup).json()["notice"]["objections"]
    now = datetime(2020, 6, 3, 8, tzinfo=timezone.utc)
    with ctx.db.begin() as session:
        session.add(VisitAttempt(id=new_id("att"), case_id=case_id, visited_on=now.date(), officer_ids=["u1", "u2"],
                                 outcome="not_home", note="无人在家", recorded_by="u1", recorded_at=now))
        session.add(Evidence(id=new_id("ev"), case_id=case_id, sha256="ab" * 32, size=3, content_type="image/jpeg",
                             uploaded_by="u1", uploaded_at=now, captured_at="2020-06-03T16:00:00+08:00"))
    every = read(case_id)
    if not ctx.db.is_sqlite:
        assert len(every) == 2 and len(every[1]) == 3, every
    detail = client.get(f"/api/cases/{case_id}", headers=sup).json()
    assert detail["visit_attempts"][0]["outcome"] == "not_home" and detail["notice"]["objections"]
