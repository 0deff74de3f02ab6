import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verifier.domain.errors import InvalidState
from verifier.domain.lifecycle import (
    ACTION_VERBS_ZH,
    STATUS_LABELS_ZH,
    TERMINAL,
    TRANSITIONS,
    Action,
    CaseStatus,
    allowed_actions,
    next_status,
)

S = CaseStatus


def test_happy_path_to_paid() -> None:
    status = S.RECEIVED
    for action in [
        "screen_pass", "schedule", "record_check", "determine_eligible", "review_pass",
        "post_notice", "close_notice", "add_to_batch", "payment_succeeded",
    ]:
        status = next_status(status, action)
    assert status == S.PAID


def test_failed_payment_is_corrected_and_paid_again() -> None:
    status = next_status(S.IN_BATCH, "payment_failed")
    assert status == S.PAYMENT_FAILED
    status = next_status(status, "payee_corrected")
    assert status == S.READY_TO_PAY
    assert next_status(next_status(status, "add_to_batch"), "payment_succeeded") == S.PAID


def test_upheld_objection_sends_the_case_back_to_be_checked() -> None:
    assert next_status(S.IN_NOTICE, "objection_upheld") == S.SCREENED
    assert next_status(S.SCHEDULED, "schedule") == S.SCHEDULED


def test_a_check_sent_back_is_scheduled_again_before_it_is_determined() -> None:
    assert next_status("checked", Action.SEND_BACK) == CaseStatus.SCREENED
    for status in ("received", "screened", "scheduled", "determined", "in_notice"):
        with pytest.raises(InvalidState):
            next_status(status, Action.SEND_BACK)


def test_refusal_message() -> None:
    with pytest.raises(InvalidState, match="^案件当前状态为「已支付」，不能结束公示：只有「公示中」的案件才能办理$") as info:
        next_status(S.PAID, "close_notice")
    assert info.value.status == 409
    assert set(ACTION_VERBS_ZH) == {str(a) for a in Action}  # every action has its words


def test_withdraw_only_before_the_notice() -> None:
    can_withdraw = {s for s in S if Action.WITHDRAW in allowed_actions(s)}
    assert can_withdraw == {S.RECEIVED, S.SCREENED, S.SCHEDULED, S.CHECKED, S.DETERMINED, S.REVIEWED}


def test_terminal_statuses() -> None:
    # An ineligible decision is not final: the household may ask for a review, checked again by other officers.
    assert TERMINAL == {S.SCREENED_OUT, S.NO_RELIEF, S.REVIEW_FAILED, S.PAID, S.WITHDRAWN, S.MERGED}
    assert allowed_actions(S.INELIGIBLE) == (Action.REQUEST_REVIEW,)
    assert next_status(S.INELIGIBLE, Action.REQUEST_REVIEW) == S.SCREENED


def test_every_status_has_a_label() -> None:
    assert set(STATUS_LABELS_ZH) == set(S)
    assert STATUS_LABELS_ZH[S.IN_NOTICE] == "公示中"


def test_every_pair_in_the_table_is_accepted_and_every_other_refused() -> None:
    for status in S:
        for action in Action:
            if (status, action) in TRANSITIONS:
                assert next_status(status, action) == TRANSITIONS[(status, action)]
                assert next_status(str(status), str(action)) == TRANSITIONS[(status, action)]
                assert action in allowed_actions(status)
            else:
                with pytest.raises(InvalidState):
                    next_status(status, action)
                assert action not in allowed_actions(status)


@settings(max_examples=200)
@given(st.sampled_from(list(S)) | st.text(max_size=20), st.sampled_from(list(Action)) | st.text(max_size=20))
def test_any_pair_outside_the_table_is_refused(status: str, action: str) -> None:
    if (status, action) in TRANSITIONS:
        assert next_status(status, action) in set(S)
    else:
        with pytest.raises(InvalidState):
            next_status(status, action)


def test_a_refusal_in_a_status_names_the_action_it_refuses() -> None:
    from verifier.domain.lifecycle import refused_in_status

    assert refused_in_status("determined", "录入核查结果") == "案件当前状态为「已认定」，不能录入核查结果"
    assert refused_in_status("checked", "录入村级评议") == "案件当前状态为「已核查」，不能录入村级评议"
