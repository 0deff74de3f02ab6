"""A determination confirmed after a monetary round froze: a monetary population holds only cases whose relief is
confirmed, so a supervisor who left a doubtful, large relief unconfirmed until the county froze the period's monetary
round kept it out of that round; the next round (a later period) did not take it either (its check was recorded
before the freeze), and a second round over the period is refused. The case fell into no monetary sample. Now the
next monetary round frozen after the confirmation takes it in, once, and both rounds' pages (and the API) say so."""

from __future__ import annotations

import re
from datetime import date

from factories import COUNTY, make_case
from sampling import sampling_helpers
from sampling.sampling_helpers import INSURER_SECRET, RANDOMNESS

from verifier.store.tables import Case

rounds = sampling_helpers.rounds  # the fixture: the county reviewer and an insurer supervisor over the sampling API


def _frozen(rounds, start: date, end: date, kind: str = "monetary") -> str:  # type: ignore[no-untyped-def]
    """A round of `kind` over `start`..`end`, every case of it sampled, opened, committed and frozen: its id."""
    opened = rounds.create(kind=kind, checked_from=start.isoformat(), checked_to=end.isoformat(), min_rate="1.00",
                           stratify_by_town=False)
    return opened["id"]


def _population(rounds, round_id: str) -> set[str]:  # type: ignore[no-untyped-def]
    return set(rounds.get(round_id, "/population")["case_ids"])


def _confirm(client, users, case_id: str) -> dict:  # type: ignore[no-untyped-def, type-arg]
    r = client.post(f"/api/cases/{case_id}/determination", headers=users.headers("late-sup"), json={"confirm": True})
    assert r.status_code == 200, r.text
    return r.json()


def _number(ctx, case_id: str) -> str:  # type: ignore[no-untyped-def]
    with ctx.db.read() as s:
        case = s.get(Case, case_id)
        assert case is not None
        return case.number


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_attack_a_relief_confirmed_after_the_monetary_freeze_joins_the_next_monetary_round(  # type: ignore[no-untyped-def]
        ctx, client, users, rounds) -> None:
    users.add("late-sup", "insurer_supervisor", counties=(COUNTY,))
    day0 = ctx.clock.today()  # 2020-06-01
    start, end = date(2020, 5, 1), date(2020, 6, 30)
    sampled = make_case(ctx, stage="determined")
    feared = make_case(ctx, stage="checked", medical=9_000_000)  # checked day0; its supervisor leaves it unconfirmed

    # Before the freeze the county is told which checks of the period still wait for their determination.
    opened = rounds.open(kind="monetary", checked_from=start.isoformat(), checked_to=end.isoformat(),
                         min_rate="1.00", stratify_by_town=False)
    first = opened["id"]
    assert rounds.get(first)["awaiting_determination"] == [feared]
    page = _text(client.get(f"/sampling/{first}", headers=rounds.headers).text)
    assert "1 户已完成入户核查、尚未确认认定" in page and _number(ctx, feared) in page
    rounds.commit(first, "county", RANDOMNESS)
    rounds.commit(first, "insurer", INSURER_SECRET)
    rounds.freeze(first)
    assert _population(rounds, first) == {sampled}
    assert rounds.get(first)["awaiting_determination"] == []
    assert rounds.get(first)["missed"] == []

    # The next day the supervisor confirms it: 55,500 yuan.
    ctx.clock.advance(days=1)
    assert _confirm(client, users, feared)["relief"]["amount"] == "55500.00"

    # The frozen round says it missed the case, and that the next monetary round takes it in.
    missed = rounds.get(first)["missed"]
    assert [(m["case_id"], m["why"], m["relief"], m["taken_in_by"]) for m in missed] == [
        (feared, "confirmed_late", "55500.00", None)]
    assert missed[0]["visited_on"] == day0.isoformat()
    page = _text(client.get(f"/sampling/{first}", headers=rounds.headers).text)
    assert "冻结后才确认认定" in page and _number(ctx, feared) in page and "待下一轮按金额抽样补入" in page

    # The next monetary round (July) takes it in beside its own period's cases ...
    ctx.clock.advance(days=(date(2020, 7, 2) - ctx.clock.today()).days)
    july = make_case(ctx, stage="determined")
    second = _frozen(rounds, date(2020, 7, 1), ctx.clock.today())
    assert _population(rounds, second) == {july, feared}
    weights = rounds.get(second, "/population")["weights"]
    assert weights[feared] == "55500.00"
    assert rounds.get(second)["carried_in"] == [feared]
    assert rounds.get(first)["missed"][0]["taken_in_by"]["id"] == second
    page = _text(client.get(f"/sampling/{second}", headers=rounds.headers).text)
    assert "补入" in page and _number(ctx, feared) in page
    page = _text(client.get(f"/sampling/{first}", headers=rounds.headers).text)
    assert "已补入" in page

    # ... once: the round after it leaves it out.
    ctx.clock.advance(days=1)
    third_case = make_case(ctx, stage="determined")
    third = _frozen(rounds, ctx.clock.today(), ctx.clock.today())
    assert _population(rounds, third) == {third_case}
    assert rounds.get(third)["carried_in"] == []


def test_a_relief_confirmed_after_two_monetary_freezes_waits_for_the_third(ctx, client, users, rounds) -> None:  # type: ignore[no-untyped-def]
    """Held back past the next round's freeze too: the round frozen after the confirmation takes it in."""
    users.add("late-sup", "insurer_supervisor", counties=(COUNTY,))
    make_case(ctx, stage="determined")
    feared = make_case(ctx, stage="checked", medical=9_000_000)
    _frozen(rounds, date(2020, 5, 1), date(2020, 6, 30))
    ctx.clock.advance(days=(date(2020, 7, 2) - ctx.clock.today()).days)
    make_case(ctx, stage="determined")
    second = _frozen(rounds, date(2020, 7, 1), ctx.clock.today())
    assert feared not in _population(rounds, second)
    ctx.clock.advance(days=1)
    _confirm(client, users, feared)
    third_case = make_case(ctx, stage="determined")
    third = _frozen(rounds, ctx.clock.today(), ctx.clock.today())
    assert _population(rounds, third) == {third_case, feared}


def test_an_attribute_round_is_unchanged(ctx, client, users, rounds) -> None:  # type: ignore[no-untyped-def]
    """An attribute round takes in checks not yet determined: the unconfirmed case is in the first round's population,
    and its confirmation after the freeze carries it into no later attribute round."""
    users.add("late-sup", "insurer_supervisor", counties=(COUNTY,))
    sampled = make_case(ctx, stage="determined")
    feared = make_case(ctx, stage="checked", medical=9_000_000)
    first = _frozen(rounds, date(2020, 5, 1), date(2020, 6, 30), kind="attribute")
    assert _population(rounds, first) == {sampled, feared}
    ctx.clock.advance(days=1)
    _confirm(client, users, feared)
    assert rounds.get(first)["missed"] == []
    ctx.clock.advance(days=(date(2020, 7, 2) - ctx.clock.today()).days)
    july = make_case(ctx, stage="determined")
    second = _frozen(rounds, date(2020, 7, 1), ctx.clock.today(), kind="attribute")
    assert _population(rounds, second) == {july}
    assert rounds.get(second)["carried_in"] == []


def test_a_late_relief_withdrawn_is_not_said_to_wait(ctx, client, users, rounds) -> None:  # type: ignore[no-untyped-def]
    """Confirmed after the freeze, then withdrawn: no monetary round takes the case, so the frozen round no longer
    says it waits for the next (the list reads the carry's rule, `late_checks.carried`)."""
    from verifier.cases.workflow import advance, load_case

    users.add("late-sup", "insurer_supervisor", counties=(COUNTY,))
    make_case(ctx, stage="determined")
    feared = make_case(ctx, stage="checked", medical=9_000_000)
    first = _frozen(rounds, date(2020, 5, 1), date(2020, 6, 30))
    ctx.clock.advance(days=1)
    _confirm(client, users, feared)
    assert [m["case_id"] for m in rounds.get(first)["missed"]] == [feared]
    with ctx.db.begin() as session:
        advance(session, load_case(session, feared, None, for_update=True), "withdraw", actor=None,
                role="town_clerk", clock=ctx.clock, payload={"shortcut": "test"})
    assert rounds.get(first)["missed"] == []
    assert "待下一轮" not in _text(client.get(f"/sampling/{first}", headers=rounds.headers).text)
    ctx.clock.advance(days=(date(2020, 7, 2) - ctx.clock.today()).days)
    july = make_case(ctx, stage="determined")
    second = _frozen(rounds, date(2020, 7, 1), ctx.clock.today())
    assert _population(rounds, second) == {july}


def test_checks_awaiting_determination_past_the_lists_length_are_counted(ctx, client, rounds, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """More checks waiting than the list shows: the count is all of them, and the page says how many more there are
    (the list is cut at `LIST_MAX`, here 1, not 200, so three cases do)."""
    from verifier.sampling import late_checks

    monkeypatch.setattr(late_checks, "LIST_MAX", 1)
    make_case(ctx, stage="determined")
    waiting = sorted(make_case(ctx, stage="checked") for _ in range(2))
    opened = rounds.open(kind="monetary", checked_from="2020-05-01", checked_to="2020-06-30", min_rate="1.00",
                         stratify_by_town=False)
    body = rounds.get(opened["id"])
    assert len(body["awaiting_determination"]) == 1 and body["awaiting_determination_total"] == 2
    assert set(body["awaiting_determination"]) < set(waiting)
    page = _text(client.get(f"/sampling/{opened['id']}", headers=rounds.headers).text)
    assert "2 户已完成入户核查、尚未确认认定" in page and "另有 1 户未列出" in page
