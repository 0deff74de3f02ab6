import pytest
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


@pytest.mark.each_commit_signed
def test_a_factory_case_is_signed_by_one_checkpoint_and_later_writes_each_by_theirs(ctx) -> None:  # type: ignore[no-untyped-def]
    """make_case's steps (referral, screening, visit, check, determination: each its own commit and entries) end
    under one checkpoint of the log's head, as the running application signs a second's commits; the log verifies,
    and a write after it is signed after its own commit again (the tests' hook is back)."""
    from sqlalchemy import select

    from verifier.audit.checkpoints import latest_checkpoint
    from verifier.audit.log import tree_size
    from verifier.audit.models import AuditCheckpoint
    from verifier.audit.verify import verify_log
    from verifier.cases.workflow import advance, load_case
    from factories import staff

    with ctx.db.read() as session:
        before = set(session.scalars(select(AuditCheckpoint.tree_size)))
    case_id = make_case(ctx, stage="determined")
    with ctx.db.read() as session:
        size = tree_size(session)
        made = set(session.scalars(select(AuditCheckpoint.tree_size))) - before
    assert made == {size} and size - max(before, default=0) >= 5  # five steps' entries, one checkpoint at the end
    clerk = staff(ctx).clerk
    with ctx.db.begin() as session:
        advance(session, load_case(session, case_id, None, for_update=True), "review_pass", actor=clerk,
                role="town_clerk", clock=ctx.clock, payload={})
    with ctx.db.read() as session:
        assert latest_checkpoint(session).tree_size == tree_size(session) > size  # type: ignore[union-attr]
    assert verify_log(ctx.db, [ctx.signer.verifier]).ok
