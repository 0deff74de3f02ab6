"""Two clerks posting the same village at once: one notice, never a case on two."""

from __future__ import annotations

import threading
from datetime import date

from factories import make_case, staff
from sqlalchemy import func, select

from verifier.domain.errors import ValidationFailed
from verifier.notices import service
from verifier.notices.models import Notice, NoticeItem


def test_simultaneous_postings_make_one_notice(ctx, clock) -> None:  # type: ignore[no-untyped-def]
    cases = [make_case(ctx, village="东村") for _ in range(3)]
    clerk = staff(ctx).clerk
    for case_id in cases:
        with ctx.db.begin() as session:
            service.record_review(session, case_id, held_on=date(2020, 6, 1), result="pass", note="",
                                  principal=clerk, clock=clock)
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def post() -> None:
        barrier.wait()
        try:
            with ctx.db.begin() as session:
                service.post_notice(session, service.NoticeRequest("340223", "城关镇", "东村", date(2020, 6, 1)),
                                    principal=clerk, clock=clock)
            outcomes.append("posted")
        except ValidationFailed as exc:
            outcomes.append(exc.errors[0].field)

    threads = [threading.Thread(target=post) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["posted", "village", "village", "village"]
    with ctx.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Notice)) == 1
        assert session.scalar(select(func.count(NoticeItem.case_id.distinct()))) == 3
