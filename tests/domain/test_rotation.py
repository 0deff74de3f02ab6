"""Rotation asked at the door (`domain.rotation.barred_on_visit`): who may not record on a visit now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from verifier.domain import rotation
from verifier.domain.errors import FieldError

CHECKED = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
LAST = rotation.LastCheck(frozenset({"a", "b"}), CHECKED)


def test_no_check_on_another_case_bars_nobody() -> None:
    assert rotation.barred_on_visit(None, scheduled_at=CHECKED, by_hand=False, reason=None) == frozenset()


def test_the_last_officers_are_barred_on_a_planned_visit_whenever_it_was_made() -> None:
    for at in (CHECKED - timedelta(hours=1), CHECKED, CHECKED + timedelta(hours=1)):
        assert rotation.barred_on_visit(LAST, scheduled_at=at, by_hand=False, reason=None) == {"a", "b"}


def test_a_visit_by_hand_with_its_reason_stands_only_when_made_knowing_the_check() -> None:
    # a small county's: scheduled at or after the check, with the reason
    for at in (CHECKED, CHECKED + timedelta(minutes=1)):
        assert rotation.barred_on_visit(LAST, scheduled_at=at, by_hand=True, reason="本县仅有两名核查员") == frozenset()
    # before the check (another visit of the household's, recorded since), or without a reason: barred
    assert rotation.barred_on_visit(LAST, scheduled_at=CHECKED - timedelta(minutes=1), by_hand=True,
                                    reason="本县仅有两名核查员") == {"a", "b"}
    assert rotation.barred_on_visit(LAST, scheduled_at=CHECKED, by_hand=True, reason="  ") == {"a", "b"}
    assert rotation.barred_on_visit(LAST, scheduled_at=CHECKED, by_hand=None, reason="旧数据") == {"a", "b"}


def test_the_refusals_name_each_barred_officer_in_the_schedulings_words() -> None:
    assert rotation.refusals(["x", "b"], {"a", "b"}) == [
        FieldError("officers[1]", "该核查员上次核查过该户（另一案件）：按轮换规则，本次须由其他核查员走访")]
