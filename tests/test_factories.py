from factories import make_case

from verifier.store.tables import Case


def test_factory_reaches_each_stage(ctx) -> None:  # type: ignore[no-untyped-def]
    for stage in ("received", "screened", "scheduled", "checked", "determined"):
        case_id = make_case(ctx, stage=stage)
        with ctx.db.read() as session:
            assert session.get(Case, case_id).status == stage


def test_factory_ineligible_when_income_is_high(ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, wages=9_000_000, stable_income=True)
    with ctx.db.read() as session:
        assert session.get(Case, case_id).status == "ineligible"


def test_factory_teams_are_chosen_by_the_day_not_by_earlier_tests(ctx) -> None:  # type: ignore[no-untyped-def]
    from factories import free_team, staff
    from sqlalchemy import select

    from verifier.store.tables import Visit

    scheduled = [make_case(ctx, stage="scheduled") for _ in range(5)]
    with ctx.db.read() as session:
        officers = {v.case_id: tuple(v.officer_ids) for v in session.scalars(select(Visit))}
    team0 = (staff(ctx, team=0).officer1.id, staff(ctx, team=0).officer2.id)
    assert [officers[c] for c in scheduled[:4]] == [team0] * 4  # a pair's day holds four visits
    assert officers[scheduled[4]] == (staff(ctx, team=1).officer1.id, staff(ctx, team=1).officer2.id)
    assert free_team(ctx) == 1
    # A checked case's visit no longer holds a place; an explicit team is kept.
    determined = make_case(ctx, stage="determined")
    explicit = make_case(ctx, stage="scheduled", team=3)
    with ctx.db.read() as session:
        officers = {v.case_id: tuple(v.officer_ids) for v in session.scalars(select(Visit))}
    assert officers[determined][0] == staff(ctx, team=1).officer1.id
    assert officers[explicit][0] == staff(ctx, team=3).officer1.id
