"""`GET /api/cases/{id}` with a bearer token is answered before Litestar routes it (cases/shortcut.py): byte for byte
what Litestar's route answers, and anything but a plain successful read is left to Litestar."""

from __future__ import annotations

from typing import Any

import pytest
from factories import make_case
from pipeline_spy import statements_sent
from shortcut_kit import count_litestar, seen

from verifier.cases.shortcut import CaseReadShortcut

OTHER = "340224"


@pytest.fixture
def routed(client, monkeypatch: pytest.MonkeyPatch) -> Any:  # type: ignore[no-untyped-def]
    """`routed(method, url, headers)`: the answer with the shortcut and the one Litestar gives without it, and
    whether Litestar was asked with the shortcut in place."""
    shortcut = client.app.asgi_handler
    assert isinstance(shortcut, CaseReadShortcut)
    inner, asked = count_litestar(shortcut, monkeypatch)

    def both(url: str, headers: Any) -> tuple[Any, Any, bool]:
        client.get("/api/auth/me", headers=headers)  # the token's signature checked once, as any first request does
        asked.clear()
        short = client.get(url, headers=headers)
        went_on = bool(asked)
        client.app.asgi_handler = inner
        try:
            plain = client.get(url, headers=headers)
        finally:
            client.app.asgi_handler = shortcut
        return seen(short), seen(plain), went_on

    return both


@pytest.mark.parametrize("stage", ["received", "determined"])
def test_a_case_read_is_answered_before_routing_as_litestar_answers_it(ctx, users, routed, stage) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage=stage)
    users.add("sup-short", "insurer_supervisor", counties=("340223",))
    users.add("admin-short", "admin")
    for name in ("sup-short", "admin-short"):
        short, plain, went_on = routed(f"/api/cases/{case_id}", users.headers(name))
        assert short[0] == 200 and not went_on
        assert short == plain


def test_anything_but_a_plain_successful_read_goes_to_litestar(ctx, client, users, routed) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="checked")
    users.add("near", "insurer_supervisor", counties=("340223",))
    users.add("far-short", "insurer_supervisor", counties=(OTHER,))
    users.add("admin-s2", "admin")
    users.add("reset-short", "insurer_supervisor", counties=("340223",))
    near, admin = users.headers("near"), users.headers("admin-s2")
    token = near["Authorization"].split(" ", 1)[1]
    cases = [
        (f"/api/cases/{case_id}", users.headers("far-short"), 404),  # another county
        ("/api/cases/case_none", near, 404),
        (f"/api/cases/{'x' * 41}", near, 400),
        (f"/api/cases/{case_id}?x=1", near, 200),
        (f"/api/cases/{case_id}/", near, 200),
        (f"/api/cases/{case_id}", [("Authorization", f"Bearer {token}"), ("Authorization", "Bearer x")], None),
        (f"/api/cases/{case_id}", {"Authorization": "Bearer not-a-token"}, 401),
        (f"/api/cases/{case_id}", {}, 401),
        ("/api/cases/ledger.xlsx", near, 200),
    ]
    for url, headers, status in cases:
        short, plain, went_on = routed(url, headers)
        assert went_on, url
        assert status is None or short[0] == status, (url, short[0], short[2][:300])
        if url.endswith(".xlsx"):  # a workbook made twice differs in its zip's times
            assert short[0] == plain[0] and short[1][0] == plain[1][0], url
        else:
            assert short == plain, url
    # The scheme's case does not matter, to either.
    short, plain, went_on = routed(f"/api/cases/{case_id}", {"Authorization": f"bearer {token}"})
    assert not went_on and short[0] == 200 and short == plain
    # A session ended, a password an administrator set: refused at once, by Litestar.
    r = client.post(f"/api/users/{users.ids['reset-short']}/password", headers=admin,
                    json={"password": "set by the admin 1"})
    assert r.status_code == 200, r.text
    login = client.post("/api/auth/login", json={"username": "reset-short", "password": "set by the admin 1"})
    short, plain, went_on = routed(f"/api/cases/{case_id}", {"Authorization": f"Bearer {login.json()['token']}"})
    assert went_on and short[0] == 403 and short == plain
    assert client.post("/api/auth/logout", headers=near).status_code in (200, 201)
    short, plain, went_on = routed(f"/api/cases/{case_id}", near)
    assert went_on and short[0] == 401 and short == plain


def test_on_postgresql_the_session_is_read_in_the_cases_own_statement_and_an_ended_one_gets_nothing(
        ctx, client, users, routed, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The shortcut's read on PostgreSQL: the session lookup is a part of the case's row's statement, not a statement
    of its own; a session ended elsewhere (another worker's logout: the row ended by SQL here) gets nothing from
    the shortcut, Litestar answers 401."""
    from verifier.accounts.models import UserSession
    from verifier.accounts.sessions import OPEN_SESSION_USER

    if ctx.db.is_sqlite:
        pytest.skip("PostgreSQL's form of the read")
    case_id = make_case(ctx, stage="determined")
    users.add("sup-one", "insurer_supervisor", counties=("340223",))
    headers = users.headers("sup-one")
    sent = statements_sent(monkeypatch)
    short, plain, went_on = routed(f"/api/cases/{case_id}", headers)
    assert short[0] == 200 and not went_on and short == plain
    lookup = OPEN_SESSION_USER.compiled(ctx.db.engine.dialect).wire.sql
    sent.clear()
    assert client.get(f"/api/cases/{case_id}", headers=headers).status_code == 200  # the shortcut's answer
    assert lookup not in sent and any(b"user_session" in s and b"relief_case" in s for s in sent)

    with ctx.db.begin() as session:
        session.execute(UserSession.__table__.update().where(UserSession.ended_at.is_(None))
                        .values(ended_at=ctx.clock.now(), ended_by="logout"))
    short, plain, went_on = routed(f"/api/cases/{case_id}", headers)
    assert went_on and short[0] == 401 and short == plain
