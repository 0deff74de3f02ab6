"""Each county reads its own: audit entries and the user roster, over HTTP, as the insiders of issue 12 tried."""

from __future__ import annotations

from county_helpers import HERE, OTHER, add_county, entries
from factories import make_case


def test_another_countys_officer_and_auditor_cannot_read_the_countys_entries(client, users, ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="determined")
    users.add("officer-there", "field_officer", counties=(OTHER,))
    users.add("auditor-there", "auditor", counties=(OTHER,))
    users.add("auditor-here", "auditor", counties=(HERE,))
    log = entries(ctx)
    of_here = [i for i, _, _, county in log if county == HERE]
    assert {i for i, _, subject, _ in log if subject == case_id} <= set(of_here)
    # The attack: walk every index of the log. The officer's role reads no entry; the other county's auditor
    # finds none of this county's, as if they did not exist.
    officer, auditor = users.headers("officer-there"), users.headers("auditor-there")
    for i in of_here:
        assert client.get(f"/api/audit/entries/{i}", headers=officer).status_code == 403
        r = client.get(f"/api/audit/entries/{i}", headers=auditor)
        assert r.status_code == 404, (i, r.text)
    beyond = client.get(f"/api/audit/entries/{len(log) + 5}", headers=auditor)
    assert beyond.status_code == 404
    # Worded alike: an entry of this county reads to them as one past the log's end.
    theirs = client.get(f"/api/audit/entries/{of_here[0]}", headers=auditor).json()["detail"]
    assert theirs.replace(str(of_here[0]), "<i>") == beyond.json()["detail"].replace(str(len(log) + 5), "<i>")
    assert "没有第" in theirs
    # The county's own auditor reads them, with proofs that check against the public checkpoint.
    here = users.headers("auditor-here")
    for i in of_here:
        r = client.get(f"/api/audit/entries/{i}", headers=here)
        assert r.status_code == 200 and r.json()["index"] == i


def test_entries_of_no_county_are_for_readers_without_a_limit(client, users, ctx) -> None:  # type: ignore[no-untyped-def]
    make_case(ctx, stage="received")
    users.add("reviewer-here", "county_reviewer", counties=(HERE,))
    users.add("auditor-all", "auditor")
    users.add("admin-all", "admin")
    log = entries(ctx)
    nowhere = [i for i, action, _, county in log if county is None]
    assert {action for i, action, _, county in log if county is None} >= {"user.add", "contract.add"}
    here, everyone = users.headers("reviewer-here"), users.headers("auditor-all")
    for i in nowhere:  # user management and contracts: no county
        assert client.get(f"/api/audit/entries/{i}", headers=here).status_code == 404
    for i, *_ in log:
        assert client.get(f"/api/audit/entries/{i}", headers=everyone).status_code == 200
        assert client.get(f"/api/audit/entries/{i}", headers=users.headers("admin-all")).status_code == 200
    for role in ("town_clerk", "insurer_supervisor", "finance", "insurer_claims"):
        users.add(f"x-{role.replace('_', '-')}", role)
        assert client.get("/api/audit/entries/0", headers=users.headers(f"x-{role.replace('_', '-')}")).status_code == 403


def test_proofs_stay_public(client, users, ctx) -> None:  # type: ignore[no-untyped-def]
    make_case(ctx, stage="received")
    size = len(entries(ctx))
    assert client.get("/api/audit/checkpoint").status_code == 200
    assert client.get("/api/audit/public-key").status_code == 200
    r = client.get("/api/audit/consistency", params={"first": 1, "second": size})
    assert r.status_code == 200 and r.json()["proof"]


def test_another_countys_auditor_lists_only_the_users_of_their_county(client, users, ctx) -> None:  # type: ignore[no-untyped-def]
    users.add("clerk-here", "town_clerk", counties=(HERE,))
    users.add("clerk-there", "town_clerk", counties=(OTHER,))
    users.add("supervisor-all", "insurer_supervisor")
    users.add("auditor-there", "auditor", counties=(OTHER,))
    users.add("auditor-all", "auditor")
    there = users.headers("auditor-there")
    listed = {u["username"] for u in client.get("/api/users", headers=there).json()}
    assert "clerk-here" not in listed
    assert {"clerk-there", "auditor-there", "supervisor-all"} <= listed
    assert all(OTHER in u["counties"] or not u["counties"] for u in client.get("/api/users", headers=there).json())
    assert client.get(f"/api/users/{users.ids['clerk-here']}", headers=there).status_code == 404
    assert client.get(f"/api/users/{users.ids['clerk-there']}", headers=there).status_code == 200
    everyone = {u["username"] for u in client.get("/api/users", headers=users.headers("auditor-all")).json()}
    assert {"clerk-here", "clerk-there"} <= everyone


def test_entries_find_their_county_without_being_told(ctx) -> None:  # type: ignore[no-untyped-def]
    """New call sites name nothing: the subject (or the payload) gives the county; else none (fail closed)."""
    from verifier.audit import log as audit
    from verifier.store.base import new_id

    add_county(ctx)
    case_here = make_case(ctx, stage="received")
    case_there = make_case(ctx, stage="received", county=OTHER)
    with ctx.db.begin() as session:
        made = [
            audit.append(session, actor="u", role="x", action="t.case", subject=case_there, payload={}, clock=ctx.clock),
            audit.append(session, actor="u", role="x", action="t.unknown", subject=new_id("zz"), payload={},
                         clock=ctx.clock),
            audit.append(session, actor="u", role="x", action="t.payload", subject=new_id("zz"),
                         payload={"case_id": case_here}, clock=ctx.clock),
            audit.append(session, actor="u", role="x", action="t.named", subject="anything",
                         payload={"county_code": OTHER}, clock=ctx.clock),
            audit.append(session, actor="u", role="x", action="t.explicit", subject=case_here, payload={},
                         county_code=None, clock=ctx.clock),
        ]
    counties = {i: county for i, _, _, county in entries(ctx)}
    assert [counties[i] for i in made] == [OTHER, None, HERE, OTHER, None]
