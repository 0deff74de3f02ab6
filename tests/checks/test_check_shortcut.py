"""`POST /api/cases/{id}/check` with a bearer token is answered before Litestar routes it (checks/shortcut.py): what
Litestar's route answers and writes, byte for byte, and anything but a plain successful check is left to Litestar."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from api.county_helpers import OTHER, add_county
from factories import make_case
from shortcut_kit import count_litestar, seen
from sqlalchemy import func, select

from verifier.audit.models import AuditEntry
from verifier.checks.shortcut import CheckShortcut
from verifier.conflicts.models import CountyConflict
from verifier.store.tables import Case, Check, Referral, User, Visit


def _login(client: Any, username: str) -> dict[str, str]:
    r = client.post("/api/auth/login", json={"username": username, "password": "factory-password"})
    assert r.status_code == 200, r.text
    headers = {"Authorization": f"Bearer {r.json()['token']}"}
    assert client.get("/api/auth/me", headers=headers).status_code == 200  # its signature checked, as any first use
    return headers


def _scheduled(ctx: Any, county: str | None = None) -> tuple[str, list[str], str, str]:
    """A scheduled case: its id, its two officers' usernames, its head's name and ID number."""
    case_id = make_case(ctx, stage="scheduled", **({"county": county} if county else {}))
    with ctx.db.read() as session:
        officers = session.scalar(select(Visit.officer_ids).where(Visit.case_id == case_id, Visit.active.is_(True)))
        names = [session.get(User, o).username for o in officers]
        r = session.scalar(select(Referral).where(Referral.case_id == case_id))
        return case_id, names, r.name, ctx.vault.open(r.id_number_enc, "referral.id_number")


def _body(ctx: Any, officers: list[str], head: str, id_number: str, **changed: Any) -> dict[str, Any]:
    return {"visited_on": ctx.clock.today().isoformat(), "officers": officers,
            "members": [{"name": head, "id_number": id_number, "relation": "head", "labour": "partial"}],
            "income": {"wages": "3000.00"}, "rigid_expenditure": {"medical_self_paid": "42000.00"},
            "stable_income": False, "payee": {"account_name": head, "bank": "农村商业银行",
                                              # each household its own account (one_account.py warns otherwise)
                                              "account_number": "6222" + "".join(filter(str.isdigit, id_number))[:15]},
            "cross_checks": [{"source": "medical_insurance", "finding": "consistent", "note": ""}], **changed}


def _log(ctx: Any) -> list[tuple[str, str, dict[str, Any]]]:
    with ctx.db.read() as session:
        return [(a, s, json.loads(bytes(e))) for a, s, e in session.execute(
            select(AuditEntry.action, AuditEntry.subject, AuditEntry.entry).order_by(AuditEntry.idx))]


@pytest.fixture
def posted(client, monkeypatch: pytest.MonkeyPatch) -> Any:  # type: ignore[no-untyped-def]
    """`posted(url, headers, body, plain=False)`: the answer (with the shortcut, or as Litestar gives it without) and
    whether Litestar was asked."""
    outer = client.app.asgi_handler
    while not isinstance(outer._handler, CheckShortcut):
        outer = outer._handler
    shortcut = outer._handler
    inner, asked = count_litestar(shortcut, monkeypatch)

    def post(url: str, headers: Any, body: Any, plain: bool = False) -> tuple[Any, bool]:
        asked.clear()
        content = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
        if plain:
            outer._handler = inner
        try:
            r = client.post(url, headers=headers, content=content)
        finally:
            outer._handler = shortcut
        return seen(r), bool(asked)

    return post


def test_a_check_is_recorded_before_routing_as_litestar_records_it(ctx, client, posted) -> None:  # type: ignore[no-untyped-def]
    """Two cases alike, one recorded each way: the same status, headers, body and audit entry (but for their ids)."""
    answers, entries = [], []
    for plain in (False, True):
        case_id, officers, head, idn = _scheduled(ctx)
        me = _login(client, officers[1])
        before = len(_log(ctx))
        (status, headers, body), went_on = posted(f"/api/cases/{case_id}/check", me,
                                                  _body(ctx, officers, head, idn), plain=plain)
        assert status == 201 and went_on is False, body
        recorded = json.loads(body)
        with ctx.db.read() as session:
            check = session.get(Check, recorded["id"])
            assert check is not None and check.case_id == case_id and check.recorded_by is not None
            assert session.get(Case, case_id).status == "checked"
        answers.append((status, headers, body.replace(recorded["id"].encode(), b"ID").replace(case_id.encode(), b"C")))
        (action, subject, entry), = _log(ctx)[before:]
        assert (action, subject) == ("case.record_check", case_id)
        entry["payload"]["check_id"] = "ID"
        entries.append({k: v for k, v in entry.items() if k not in ("index", "time", "subject", "actor")})
    assert answers[0] == answers[1]
    assert entries[0] == entries[1]


def test_anything_but_a_plain_successful_check_goes_to_litestar(ctx, client, users, posted) -> None:  # type: ignore[no-untyped-def]
    case_id, officers, head, idn = _scheduled(ctx)
    done, done_officers, done_head, done_idn = _scheduled(ctx)
    me, done_me = _login(client, officers[0]), _login(client, done_officers[0])
    assert posted(f"/api/cases/{done}/check", done_me, _body(ctx, done_officers, done_head, done_idn))[0][0] == 201
    users.add("stranger-off", "field_officer", counties=("340223",))
    users.add("sup-check", "insurer_supervisor", counties=("340223",))
    users.add("admin-check", "admin")
    stranger, sup = users.headers("stranger-off"), users.headers("sup-check")
    for h in (stranger, sup):
        assert client.get("/api/auth/me", headers=h).status_code == 200
    token = me["Authorization"].split(" ", 1)[1]
    body = _body(ctx, officers, head, idn)
    url = f"/api/cases/{case_id}/check"
    cases: list[tuple[str, Any, Any, int]] = [
        (f"/api/cases/{done}/check", done_me, _body(ctx, done_officers, done_head, done_idn), 409),  # checked already
        (url, me, _body(ctx, officers, head, idn, income={"wages": "3000.001"}), 422),
        (url, me, _body(ctx, [officers[0], "nobody"], head, idn), 422),
        (url, me, _body(ctx, officers, head, idn, members=[]), 422),
        (url, stranger, body, 403),  # a field officer of the county, not assigned to the case
        (url, sup, body, 403),  # another role
        ("/api/cases/case_none/check", me, body, 404),
        (f"/api/cases/{'x' * 41}/check", me, body, 400),
        (url, me, {**body, "surprise": 1}, 400),
        (url, me, b"{not json", 400),
        (url, me, b"", 400),
        (url, me, [body], 400),
        (url, {"Authorization": "Bearer not-a-token"}, body, 401),
        (url, {}, body, 401),
        (url, [("Authorization", f"Bearer {token}"), ("Authorization", "Bearer x")], body, 401),
        (f"{url}?x=1", me, _body(ctx, officers, head, idn, members=[]), 422),
    ]
    log = _log(ctx)
    for target, headers, sent, status in cases:
        short, went_on = posted(target, headers, sent)
        plain, _ = posted(target, headers, sent, plain=True)
        assert went_on, target
        assert short[0] == status, (target, short[0], short[2][:300])
        assert short == plain, target
    assert _log(ctx) == log  # nothing written by any of them
    with ctx.db.read() as session:
        assert session.get(Case, case_id).status == "scheduled"

    # A key: Litestar stores the answer, and replays it the same to both.
    keyed = {**me, "Idempotency-Key": "check-once-1"}
    first, went_on = posted(url, keyed, body)
    assert went_on and first[0] == 201
    again, went_on = posted(url, keyed, body)
    assert went_on and again == posted(url, keyed, body, plain=True)[0]
    assert again[0] == 201 and again[2] == first[2] and ("idempotent-replayed", "true") in again[1]

    # A session ended: 401, by Litestar.
    assert client.post("/api/auth/logout", headers=done_me).status_code in (200, 201)
    short, went_on = posted(f"/api/cases/{done}/check", done_me, _body(ctx, done_officers, done_head, done_idn))
    assert went_on and short[0] == 401

    # A password an administrator set (which ends the officer's sessions): refused by Litestar, the same way.
    second, second_officers, second_head, second_idn = _scheduled(ctx)
    admin = users.headers("admin-check")
    with ctx.db.read() as session:
        user_id = session.scalar(select(User.id).where(User.username == second_officers[0]))
    r = client.post(f"/api/users/{user_id}/password", headers=admin, json={"password": "set by the admin 1"})
    assert r.status_code == 200, r.text
    r = client.post("/api/auth/login", json={"username": second_officers[0], "password": "set by the admin 1"})
    reset = {"Authorization": f"Bearer {r.json()['token']}"}
    client.get("/api/auth/me", headers=reset)
    sent = _body(ctx, second_officers, second_head, second_idn)
    short, went_on = posted(f"/api/cases/{second}/check", reset, sent)
    assert went_on and short[0] == 403 and short == posted(f"/api/cases/{second}/check", reset, sent, plain=True)[0]


def test_a_refusal_keeps_its_trace_once(ctx, client, posted) -> None:  # type: ignore[no-untyped-def]
    """A member of another county's household: refused (Litestar answers), the conflict recorded once, not once by
    the shortcut's try and again by Litestar's."""
    add_county(ctx)
    elsewhere = make_case(ctx, stage="received")
    with ctx.db.read() as session:
        r = session.scalar(select(Referral).where(Referral.case_id == elsewhere))
        name, idn = r.name, ctx.vault.open(r.id_number_enc, "referral.id_number")
    case_id, officers, head, head_idn = _scheduled(ctx, county=OTHER)
    me = _login(client, officers[0])
    body = _body(ctx, officers, head, head_idn)
    body["members"].append({"name": name, "id_number": idn, "relation": "spouse", "labour": "full"})
    with ctx.db.read() as session:
        conflicts = session.scalar(select(func.count()).select_from(CountyConflict))
    log = _log(ctx)
    (status, _, answer), went_on = posted(f"/api/cases/{case_id}/check", me, body)
    assert went_on and status == 422 and json.loads(answer)["errors"][0]["field"] == "members[1].id_number"
    with ctx.db.read() as session:
        assert session.scalar(select(func.count()).select_from(CountyConflict)) == conflicts + 1
        assert session.get(Case, case_id).status == "scheduled"
    assert [a for a, _, _ in _log(ctx)[len(log):]] == ["county_conflict.record"]


def _lose_connection_once(ctx: Any, monkeypatch: pytest.MonkeyPatch, *, landed: bool) -> None:
    """The next `Database.write` loses its connection at COMMIT: after the COMMIT landed (`landed`), or before it
    did (rolled back). Later writes are left alone (Litestar's own)."""
    from sqlalchemy.exc import OperationalError

    real = ctx.db.write
    lost = OperationalError("COMMIT", {}, Exception("server closed the connection unexpectedly"))

    async def write(run: Any, **how: Any) -> Any:
        monkeypatch.setattr(ctx.db, "write", real)
        if landed:
            await real(run, **how)
            raise lost

        def run_then_lose(session: Any) -> Any:
            run(session)
            raise lost

        return await real(run_then_lose, **how)

    monkeypatch.setattr(ctx.db, "write", write)


def _checks(ctx: Any, case_id: str) -> list[str]:
    with ctx.db.read() as session:
        return list(session.scalars(select(Check.id).where(Check.case_id == case_id)))


def test_a_check_whose_connection_is_lost_after_its_commit_landed_is_answered_as_recorded(
        ctx, client, posted, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Handed to Litestar, the re-try of a check already recorded would be refused (409: the case is checked) and
    the officer would record it again. The shortcut looks it up: recorded, it answers the route's 201, once."""
    case_id, officers, head, idn = _scheduled(ctx)
    me = _login(client, officers[0])
    log = _log(ctx)
    _lose_connection_once(ctx, monkeypatch, landed=True)
    (status, _, body), went_on = posted(f"/api/cases/{case_id}/check", me, _body(ctx, officers, head, idn))
    assert (status, went_on) == (201, False), body
    assert _checks(ctx, case_id) == [json.loads(body)["id"]]
    assert [a for a, _, _ in _log(ctx)[len(log):]] == ["case.record_check"]


def test_a_check_whose_connection_is_lost_before_its_commit_landed_is_made_again_by_litestar(
        ctx, client, posted, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    case_id, officers, head, idn = _scheduled(ctx)
    me = _login(client, officers[0])
    _lose_connection_once(ctx, monkeypatch, landed=False)
    (status, _, body), went_on = posted(f"/api/cases/{case_id}/check", me, _body(ctx, officers, head, idn))
    assert (status, went_on) == (201, True), body
    assert _checks(ctx, case_id) == [json.loads(body)["id"]]


def test_a_check_whose_fate_cannot_be_looked_up_is_answered_503_as_litestar_answers_a_lost_database(
        ctx, client, posted, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The database still away: whether the check landed is not known; the answer is Litestar's to a lost
    connection (503, Retry-After, the same problem body), not a re-try of the write."""
    from sqlalchemy.exc import OperationalError

    case_id, officers, head, idn = _scheduled(ctx)
    me = _login(client, officers[0])
    real_read = ctx.db.read

    def away() -> Any:
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    _lose_connection_once(ctx, monkeypatch, landed=True)
    monkeypatch.setattr(ctx.db, "read", away)
    short, went_on = posted(f"/api/cases/{case_id}/check", me, _body(ctx, officers, head, idn))
    assert short[0] == 503 and not went_on, short
    monkeypatch.setattr(ctx.db, "read", real_read)

    # Litestar's answer to a write that meets a database it cannot reach, for comparison.
    other, others, other_head, other_idn = _scheduled(ctx)
    other_me = _login(client, others[0])

    async def unreachable(run: Any) -> Any:
        raise OperationalError("BEGIN", {}, Exception("connection refused"))

    monkeypatch.setattr(ctx.db, "write", unreachable)
    plain, _ = posted(f"/api/cases/{other}/check", other_me, _body(ctx, others, other_head, other_idn), plain=True)
    assert plain == short


def test_the_session_is_looked_up_with_the_checks_reads_and_an_ended_one_writes_nothing(
        ctx, client, posted, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """On PostgreSQL the shortcut reads the caller's session in the check's own transaction, in the batch of its first
    reads (no read of its own before the write); on SQLite apart, before the write (whose `BEGIN IMMEDIATE` is the
    only write lock). A session ended meanwhile by anyone (another worker's logout: the row ended by SQL here) is
    refused, Litestar answers 401, and nothing of the check is written."""
    from verifier.accounts.models import UserSession
    from verifier.checks import recording

    case_id, officers, head, idn = _scheduled(ctx)
    me = _login(client, officers[0])
    batches: list[Any] = []
    real_read = recording.read

    def read(*args: Any, **kwargs: Any) -> Any:
        found = real_read(*args, **kwargs)
        batches.append((kwargs.get("first"), found.first))
        return found

    asked: list[Any] = []
    real_ask = ctx.db.ask

    async def ask(steps: Any) -> Any:
        asked.append(steps)
        return await real_ask(steps)

    monkeypatch.setattr(recording, "read", read)
    with monkeypatch.context() as m:
        m.setattr(ctx.db, "ask", ask)
        (status, _, body), went_on = posted(f"/api/cases/{case_id}/check", me, _body(ctx, officers, head, idn))
    assert (status, went_on) == (201, False), body
    (lookup, rows), = batches
    if ctx.db.is_sqlite:
        assert len(asked) == 1 and lookup is None  # the session read apart, before the write
    else:
        assert asked == [] and lookup is not None and len(rows) == 1  # the session's row, read with the case's

    second, second_officers, second_head, second_idn = _scheduled(ctx)
    other = _login(client, second_officers[0])
    with ctx.db.begin() as session:  # ended elsewhere (another process), not through this app
        ended = session.execute(UserSession.__table__.update().where(UserSession.ended_at.is_(None))
                                .values(ended_at=ctx.clock.now(), ended_by="logout")).rowcount
    assert ended >= 1
    log = _log(ctx)
    batches.clear()
    (status, _, body), went_on = posted(f"/api/cases/{second}/check", other,
                                        _body(ctx, second_officers, second_head, second_idn))
    assert went_on and status == 401, body
    if ctx.db.is_sqlite:
        assert batches == []  # refused before the write: nothing of the case read; Litestar refused before reading
    else:
        assert batches[0][1] == []  # the shortcut's batch found no open session; Litestar refused before reading
    assert _log(ctx) == log and _checks(ctx, second) == []
    with ctx.db.read() as session:
        assert session.get(Case, second).status == "scheduled"


def test_on_sqlite_a_refused_caller_never_takes_the_write_lock(ctx, client, users, posted, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """SQLite has one write lock (`BEGIN IMMEDIATE`): a validly signed token whose session has ended, or of another
    role, is refused before the check's write is begun, so it neither takes the lock nor waits behind a writer that
    holds it; the writer goes on undisturbed. (On PostgreSQL the caller is admitted in the write's first batch:
    `test_the_session_is_looked_up_with_the_checks_reads_and_an_ended_one_writes_nothing`.)"""
    import concurrent.futures

    from verifier.accounts.models import UserSession

    if not ctx.db.is_sqlite:
        pytest.skip("SQLite's single write lock")
    case_id, officers, head, idn = _scheduled(ctx)
    me = _login(client, officers[0])
    sup_id = users.add("sup-lock", "insurer_supervisor", counties=("340223",))
    sup = users.headers("sup-lock")
    assert client.get("/api/auth/me", headers=sup).status_code == 200
    with ctx.db.begin() as session:  # the officer's session ended elsewhere (another process's logout)
        session.execute(UserSession.__table__.update().where(UserSession.ended_at.is_(None),
                                                              UserSession.user_id != sup_id)
                        .values(ended_at=ctx.clock.now(), ended_by="logout"))
    writes: list[Any] = []
    real_write = ctx.db.write

    async def write(run: Any) -> Any:
        writes.append(run)
        return await real_write(run)

    monkeypatch.setattr(ctx.db, "write", write)
    body = _body(ctx, officers, head, idn)
    log = _log(ctx)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        with ctx.db.begin() as session:  # another writer holds the write lock meanwhile
            session.execute(select(func.count()).select_from(Case))
            answers = []
            for headers in (me, sup):
                sent = pool.submit(posted, f"/api/cases/{case_id}/check", headers, body)
                try:
                    answers.append(sent.result(timeout=15))  # not waiting for the writer's lock (60 s)
                except concurrent.futures.TimeoutError:
                    pytest.fail("a refused caller waited for the write lock")
    assert [(status, went_on) for (status, _, _), went_on in answers] == [(401, True), (403, True)]
    assert writes == []  # neither the shortcut nor Litestar began a write
    assert _log(ctx) == log and _checks(ctx, case_id) == []


def _broken_rule(monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    """The check's guarded write made to find its case moved (a rule broken): `real`, the case's move asked of a
    status it is not in (PostgreSQL: the folded statement's own refusal; SQLite: the process's), or `error`, the
    driver's error PostgreSQL raises then, on either database."""
    from sqlalchemy.exc import DataError

    from verifier.checks import recording
    from verifier.store.faults import NOT_ONE_ROW

    real = recording.write

    def write(session: Any, **kwargs: Any) -> Any:
        if how == "error":
            raise DataError("SELECT CAST(...)", {}, Exception(
                f'invalid input syntax for type integer: "{NOT_ONE_ROW}"\nCONTEXT: unnamed portal'))
        return real(session, **{**kwargs, "before": "nowhere"})

    monkeypatch.setattr(recording, "write", write)


@pytest.mark.parametrize("how", ["error", "real"])
def test_a_guarded_write_that_wrote_no_row_is_answered_409_in_chinese_and_not_made_again(
        ctx, client, posted, monkeypatch, caplog, how) -> None:  # type: ignore[no-untyped-def]
    """The case's move wrote no row although its row was locked (never expected: a rule broken). On PostgreSQL the
    folded statement refuses it (`NOT_ONE_ROW`, a DataError): the shortcut answers it itself, 409 in Chinese as
    Litestar does, without handing it on to be made again; logged as an error; nothing written, no database words
    shown. On SQLite the process judges it (409 as a state refusal)."""
    import logging

    from verifier.store.faults import BROKEN_RULE_ZH

    case_id, officers, head, idn = _scheduled(ctx)
    me = _login(client, officers[0])
    body = _body(ctx, officers, head, idn)
    log = _log(ctx)
    _broken_rule(monkeypatch, how)
    server_judges = how == "error" or not ctx.db.is_sqlite
    with caplog.at_level(logging.ERROR, logger="verifier"):
        short, went_on = posted(f"/api/cases/{case_id}/check", me, body)
        assert short[0] == 409, short
        if server_judges:
            problem = json.loads(short[2])
            assert problem["detail"] == BROKEN_RULE_ZH and "invalid input" not in short[2].decode(), problem
            assert not went_on  # answered by the shortcut, not made again by Litestar
            assert [r for r in caplog.records if r.levelno == logging.ERROR and "rule broken" in r.getMessage()]
            caplog.clear()
            plain, _ = posted(f"/api/cases/{case_id}/check", me, body, plain=True)
            assert plain == short  # Litestar answers it the same
            assert [r for r in caplog.records if r.levelno == logging.ERROR and "rule broken" in r.getMessage()]
    assert _log(ctx) == log and _checks(ctx, case_id) == []
    with ctx.db.read() as session:
        assert session.get(Case, case_id).status == "scheduled"


def test_on_postgresql_a_checks_new_members_are_counted_without_a_round_trip_of_their_own(
        ctx, client, posted, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The ID numbers a check names that its household does not hold are counted for its officer
    (`checks/member_probes.py`) in the check's own round trips: the officer's look-ups in the window read in the
    batch of the check's reads, the new ones written (and the old pruned) with its COMMIT. A first check naming a
    new spouse makes the same round trips as one naming only the household's own members, by the shortcut and by
    Litestar's route alike, and no statement outside the pipelines; its only statements more are those two writes."""
    if ctx.db.is_sqlite:
        pytest.skip("PostgreSQL's round trips")
    from pipeline_spy import statements_sent
    from sqlalchemy import event

    from verifier.accounts.models import LoginAttempt
    from verifier.checks.member_probes import ALLOWANCE
    from verifier.domain.idnumber import make_id_number
    from verifier.store import reader as reader_module
    from verifier.store import writer as writer_module

    trips: list[str] = []
    executed: list[str] = []
    real_exchange, real_send = reader_module.exchange, writer_module.send_writes

    # up to the check's COMMIT (the audit checkpoint after it is a transaction of its own)
    def committed() -> bool:
        return bool(trips) and trips[-1] == "write and commit"

    def exchange(connection: Any, statements: Any, **k: Any) -> Any:
        if not committed():
            trips.append("read")
        return real_exchange(connection, statements, **k)

    def send(connection: Any, statements: Any, *, commit: bool = False, **k: Any) -> Any:
        if not committed():
            trips.append("write and commit" if commit else "write")
        return real_send(connection, statements, commit=commit, **k)

    def seen(conn: Any, cursor: Any, statement: str, *a: Any) -> None:
        if cursor is not None and not committed():
            executed.append(statement)

    def counted(username: str) -> int:
        with ctx.db.read() as session:
            uid = session.scalar(select(User.id).where(User.username == username))
            return int(session.scalar(select(func.count()).select_from(LoginAttempt)
                                      .where(LoginAttempt.bucket == ALLOWANCE._bucket(uid))) or 0)

    def cost(plain: bool, spouse: bool) -> tuple[list[str], list[bytes]]:
        case_id, officers, head, idn = _scheduled(ctx)
        me = _login(client, officers[0])
        body = _body(ctx, officers, head, idn)
        if spouse:
            body["members"].append({"name": "配偶", "id_number": make_id_number("110101", date(1971, 3, 4), 27 + plain),
                                    "relation": "spouse", "labour": "full"})
        before = counted(officers[0])
        trips.clear()
        executed.clear()
        with monkeypatch.context() as m:
            m.setattr(reader_module, "exchange", exchange)
            m.setattr(writer_module, "send_writes", send)
            sent = statements_sent(m)
            event.listen(ctx.db.engine, "before_cursor_execute", seen)
            try:
                (status, _, answer), went_on = posted(f"/api/cases/{case_id}/check", me, body, plain=plain)
            finally:
                event.remove(ctx.db.engine, "before_cursor_execute", seen)
        assert status == 201 and (plain or not went_on), answer
        assert executed == [], executed  # nothing outside the pipelines (an ORM statement: a round trip each)
        assert counted(officers[0]) == before + (1 if spouse else 0)
        sql = [s if isinstance(s, bytes) else s.encode() for s in sent]
        return list(trips), [s for s in sql if b"login_attempt" in s]

    for plain in (False, True):
        own_trips, own_probes = cost(plain, spouse=False)
        new_trips, new_probes = cost(plain, spouse=True)
        assert new_trips == own_trips, (plain, own_trips, new_trips)
        assert own_trips[-1] == "write and commit"
        assert [s.split()[0] for s in own_probes] == [b"SELECT"]  # read in the batch, nothing written
        assert [s.split()[0] for s in new_probes] == [b"SELECT", b"DELETE", b"INSERT"]
