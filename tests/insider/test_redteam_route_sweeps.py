"""Every route, walked as one person of another county, and as each role of the county itself.

The other tests try the routes one by one; these walk the application's whole route table, so a page, download,
htmx fragment or export added later is tried too: a county office's month of work (notices, a batch released and one
waiting, web/officekit.py) is read and written by a person holding every role of another county (and by that county's
admin), and read by each single role of the county itself.

- Another county: a route naming one of this county's cases, households, notices, batches or users answers exactly as
  for an id that does not exist (same status), no page or file of any route shows a head of household's name, a case
  number or a case id of this county (asked with `county`/`county_code` of this county too), and no write (an empty
  or a confirming form, an empty JSON body) leaves an audit entry.
- The county's own roles: no page, fragment or download shows a member's full ID number, the household's phone or a
  payee's account number; the one exception is the bank file, which finance sends to the bank.
- The audit log's entries hold none of them either (its notes are digests, its numbers masked).
- The county's own auditor writes nothing through any route.
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

import pytest
from factories import COUNTY, other_county_contract
from kept_rows import kept
from sqlalchemy import func, select

from verifier.audit.models import AuditEntry
from verifier.payments.payees import CHECK_ACCOUNT_COLUMN
from verifier.store.tables import Case, Check, Household, Member, Referral, User

OTHER = "340224"
EVERY_ROLE = ("town_clerk", "insurer_supervisor", "county_reviewer", "auditor", "finance", "insurer_claims",
              "field_officer")
SKIPPED = ("/schema",)  # the OpenAPI description: the same for everyone
BANK_FILES = re.compile(r"^(/api/payment-batches|/payments)/[^/]+/bank-file$")


def _build_office(ctx):  # type: ignore[no-untyped-def]
    """The county's month of work, and a second county under a contract of its own; the users it added, by name."""
    from users_kit import Users
    from web.officekit import build_office

    users = Users(ctx, None)  # adds users only: no one logs in while building
    other_county_contract(ctx, OTHER)
    return build_office(ctx, users), dict(users.ids)


built_office = kept("built_office", _build_office)


@pytest.fixture
def office(users, built_office):  # type: ignore[no-untyped-def]
    """The office, built by the process's first test that asks for it and kept (the tests only add to it): the next
    start from a copy of its rows, keys, log and time (tests/kept_rows.py)."""
    built, ids = built_office
    users.ids.update(ids)
    return built


def _ids(ctx, office) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        case_id, household_id = session.execute(select(Case.id, Case.household_id).order_by(Case.id)).first()
        user_id = session.scalar(select(User.id).where(User.username == "o-fin1"))
    return {"case_id": case_id, "household_id": household_id, "notice_id": office.open_notice,
            "batch_id": office.prepared_batch, "user_id": user_id}


def _missing(value: str) -> str:
    """An id of the same shape that names nothing."""
    prefix, _, rest = value.partition("_")
    return f"{prefix}_{'0' * len(rest)}" if rest else "0" * len(value)


def _urls(client, methods: str, ids: dict[str, str]) -> list[tuple[str, str, bool]]:  # type: ignore[no-untyped-def]
    """(url, the same url naming nothing, whether it names one of the county's things) for each route."""
    out = []
    for route in client.app.routes:
        if methods not in getattr(route, "methods", set()) or route.path.startswith(SKIPPED):
            continue
        names = re.findall(r"\{(\w+):\w+\}", route.path)
        fill = lambda m, miss=False: (_missing(ids[m.group(1)]) if miss else ids[m.group(1)]) \
            if m.group(1) in ids else ("0" * 64 if m.group(1) == "sha256" else "x")  # noqa: E731
        url = re.sub(r"\{(\w+):\w+\}", fill, route.path)
        missing = re.sub(r"\{(\w+):\w+\}", lambda m: fill(m, True), route.path)
        out.append((url, missing, any(n in ids for n in names)))
    return out


def _text(response: Any) -> str:
    """What a person would read in the answer: the page or JSON, or the XML inside an xlsx or docx."""
    content = response.content
    if content[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(content)) as z:
            return "\n".join(z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".xml"))
    return content.decode("utf-8", "replace")


def _get(client, pages, url: str, headers: dict[str, str]) -> Any:  # type: ignore[no-untyped-def]
    return client.get(url, headers=headers) if url.startswith("/api") else pages.get(url)


def test_attack_another_countys_person_reads_every_route(ctx, client, users, office) -> None:  # type: ignore[no-untyped-def]
    from web.pagekit import Pages

    ids = _ids(ctx, office)
    with ctx.db.read() as session:
        cases = list(session.execute(select(Case.id, Case.number)).all())
    secrets = {"王东一", "李西二", "赵北三", *(c for c, _ in cases), *(n for _, n in cases)}
    users.add("far", *EVERY_ROLE, counties=(OTHER,))
    users.add("far-admin", "admin", counties=(OTHER,))
    pages = Pages(client, users)
    tried = 0
    for who in ("far", "far-admin"):
        pages.login(who)
        headers = users.headers(who)
        for url, missing, names_ours in _urls(client, "GET", ids):
            r = _get(client, pages, url, headers)
            shown = _text(r)
            # the route's own ids aside, nothing of the county
            leaked = [s for s in secrets if s in shown.replace(url, "") and s not in ids.values()]
            assert not leaked, (who, url, r.status_code, leaked)
            if not names_ours:  # a list, export or fragment asked for this county by name
                asked = f"{url}?county={COUNTY}&county_code={COUNTY}&period=2020&month=2020-06"
                shown = _text(_get(client, pages, asked, headers))
                assert not [s for s in secrets if s in shown], (who, asked)
            if names_ours:
                nothing = _get(client, pages, missing, headers)
                assert r.status_code == nothing.status_code and r.status_code in (403, 404), (who, url, r.status_code,
                                                                                             nothing.status_code)
                assert not any(i in shown for i in ids.values() if i not in url), (who, url)
            tried += 1
    assert tried > 250  # the whole table was walked


def _size(ctx) -> int:  # type: ignore[no-untyped-def]
    """How many entries the log holds (their indexes run from 0)."""
    with ctx.db.read() as session:
        return int(session.scalar(select(func.coalesce(func.max(AuditEntry.idx) + 1, 0))))


def _entries(ctx, since: int) -> list[str]:  # type: ignore[no-untyped-def]
    """The actions of the entries appended after the first `since` (a write that wrote nothing: none), not the whole
    log read again around each of the sweeps' writes."""
    with ctx.db.read() as session:
        return list(session.scalars(select(AuditEntry.action).where(AuditEntry.idx >= since).order_by(AuditEntry.idx)))


def test_attack_another_countys_person_writes_to_every_route(ctx, client, users, office) -> None:  # type: ignore[no-untyped-def]
    from web.pagekit import Pages

    ids = _ids(ctx, office)
    ids["batch_id"] = office.prepared_batch
    users.add("far", *EVERY_ROLE, counties=(OTHER,))
    users.add("far-admin", "admin", counties=(OTHER,))
    pages = Pages(client, users)
    form = {"confirm": "1", "decision": "pass", "reason": "核实", "note": "核实", "county_code": COUNTY,
            "case_ids": ids["case_id"]}
    for who in ("far", "far-admin"):
        pages.login(who)
        headers = users.headers(who)
        for url, _, _ in _urls(client, "POST", ids):
            if url in ("/login", "/logout", "/api/auth/login", "/api/auth/logout"):
                continue
            before = _size(ctx)
            if url.startswith("/api"):
                r = client.post(url, headers=headers, json={"county_code": COUNTY})
            else:
                r = pages.post(url, form)
            added = _entries(ctx, before)
            assert added == [], (who, url, r.status_code, added)
            assert r.status_code not in (200, 201) or url.endswith("/search"), (who, url, r.status_code, r.text[:300])


def _personal_data(ctx) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Every full ID number, phone and payee account of the county, in clear (what must never be shown)."""
    found: dict[str, str] = {}
    with ctx.db.read() as session:
        for m in session.scalars(select(Member)):
            found[ctx.vault.open(m.id_number_enc, "member.id_number")] = "ID number"
        for r in session.scalars(select(Referral)):
            found[ctx.vault.open(r.id_number_enc, "referral.id_number")] = "ID number"
            if r.phone_enc:
                found[ctx.vault.open(r.phone_enc, "referral.phone")] = "phone"
        for h in session.scalars(select(Household)):
            if h.phone_enc:
                found[ctx.vault.open(h.phone_enc, "household.phone")] = "phone"
        for c in session.scalars(select(Check)):
            if c.payee_account_enc:
                found[ctx.vault.open(c.payee_account_enc, CHECK_ACCOUNT_COLUMN)] = "account"
    assert {"ID number", "account"} <= set(found.values())
    return found


@pytest.mark.same_on_either
def test_no_role_reads_a_full_id_number_phone_or_account_on_any_route(ctx, client, users, office) -> None:  # type: ignore[no-untyped-def]
    """Once the checks are recorded nobody is at the door: every role of the county, on every page, fragment and
    download of every case and household, sees masks only (the bank file, for finance, carries the accounts).
    What masks a number is the read models' and the templates' (the database holds it sealed, and the walk asserts no
    answer's status), so the walk, about 1,600 pages, runs in the SQLite pass only; the other walks here, whose
    answers depend on the county filters of the queries, run on PostgreSQL too."""
    from web.pagekit import Pages

    secret = _personal_data(ctx)
    pages = Pages(client, users)
    with ctx.db.read() as session:  # a case of each village: paid, in a batch waiting, on an open notice
        cases = [session.execute(select(Case.id, Case.household_id).where(Case.id == ids[0])).one()
                 for ids in office.cases.values()]
    shown: list[tuple[str, str, str]] = []
    for role in (*EVERY_ROLE, "admin"):
        name = f"own-{role}"
        users.add(name, role, counties=(COUNTY,))
        pages.login(name)
        headers = users.headers(name)
        # An address naming no case or household is read once per role: read again it differs only in what the walk
        # itself adds (a spreadsheet's timestamps, the log's size, its own 导出表格 entries), none of it personal data.
        read: set[str] = set()
        for case_id, household_id in cases:
            ids = {**_ids(ctx, office), "case_id": case_id, "household_id": household_id,
                   "batch_id": office.released_batch, "notice_id": office.closed_notices[0]}
            for url, _, _ in _urls(client, "GET", ids):
                if url in read:
                    continue
                read.add(url)
                text = _text(_get(client, pages, url, headers))
                shown += [(role, url, kind) for value, kind in secret.items() if value in text]
    assert {(role, BANK_FILES.match(url) is not None) for role, url, _ in shown} <= {("finance", True)}, sorted(set(shown))
    assert any(role == "finance" for role, _, _ in shown)  # the walk did read the bank file


def test_the_audit_log_holds_no_full_id_number_phone_or_account(ctx, client, users, office) -> None:  # type: ignore[no-untyped-def]
    secret = _personal_data(ctx)
    with ctx.db.read() as session:
        entries = [(a, e.decode("utf-8", "replace")) for a, e in session.execute(select(AuditEntry.action,
                                                                                         AuditEntry.entry))]
    assert len(entries) > 40
    assert [(a, kind) for a, e in entries for value, kind in secret.items() if value in e] == []


def test_attack_the_countys_auditor_writes_to_every_route(ctx, client, users, office) -> None:  # type: ignore[no-untyped-def]
    """An auditor reads everything in their counties and changes nothing: every write of the application, with ids
    of the county's own cases, notices and batches, leaves no audit entry."""
    from web.pagekit import Pages

    ids = _ids(ctx, office)
    users.add("aud", "auditor", counties=(COUNTY,))
    pages = Pages(client, users)
    pages.login("aud")
    headers = users.headers("aud")
    form = {"confirm": "1", "decision": "pass", "reason": "核实", "note": "核实", "county_code": COUNTY,
            "case_ids": ids["case_id"]}
    for url, _, _ in _urls(client, "POST", ids):
        if url in ("/login", "/logout", "/api/auth/login", "/api/auth/logout"):
            continue
        before = _size(ctx)
        r = (client.post(url, headers=headers, json={"county_code": COUNTY}) if url.startswith("/api")
             else pages.post(url, form))
        added = _entries(ctx, before)
        assert added == [], (url, r.status_code, added)
