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
