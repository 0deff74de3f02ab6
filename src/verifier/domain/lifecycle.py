"""A case's states and the only changes allowed between them.

Every state change goes through `next_status`; anything not listed in `TRANSITIONS` is refused.
"""

from __future__ import annotations

from enum import StrEnum

from .errors import InvalidState


class CaseStatus(StrEnum):
    RECEIVED = "received"
    SCREENED = "screened"
    SCREENED_OUT = "screened_out"
    SCHEDULED = "scheduled"
    CHECKED = "checked"
    DETERMINED = "determined"
    INELIGIBLE = "ineligible"
    NO_RELIEF = "no_relief"
    REVIEWED = "reviewed"
    REVIEW_FAILED = "review_failed"
    IN_NOTICE = "in_notice"
    READY_TO_PAY = "ready_to_pay"
    IN_BATCH = "in_batch"
    PAID = "paid"
    PAYMENT_FAILED = "payment_failed"
    WITHDRAWN = "withdrawn"
    MERGED = "merged"  # two households found to be one: this case was merged into the other's (see households/)


class Action(StrEnum):
    SCREEN_PASS = "screen_pass"
    SCREEN_REJECT = "screen_reject"
    SCHEDULE = "schedule"
    RECORD_CHECK = "record_check"
    SEND_BACK = "send_back"  # the supervisor sends a check back for another visit, with a reason
    VISIT_FAILED = "visit_failed"  # at the door, no check: nobody home, refused, moved away
    DETERMINE_ELIGIBLE = "determine_eligible"
    DETERMINE_INELIGIBLE = "determine_ineligible"
    DETERMINE_NO_RELIEF = "determine_no_relief"
    REQUEST_REVIEW = "request_review"  # the household asks for a review (复核) of an ineligible decision
    REVIEW_PASS = "review_pass"
    REVIEW_FAIL = "review_fail"
    POST_NOTICE = "post_notice"
    OBJECTION_UPHELD = "objection_upheld"
    CLOSE_NOTICE = "close_notice"
    ADD_TO_BATCH = "add_to_batch"
    REMOVE_FROM_BATCH = "remove_from_batch"
    PAYMENT_SUCCEEDED = "payment_succeeded"
    PAYMENT_FAILED = "payment_failed"
    PAYEE_CORRECTED = "payee_corrected"
    WITHDRAW = "withdraw"
    MERGE = "merge"  # the supervisor merges two households: this case is joined into the other's open case
    # A case held after a sampling round found it deviating, re-determined ineligible by a supervisor.
    REDETERMINE_INELIGIBLE = "redetermine_ineligible"


S, A = CaseStatus, Action

TRANSITIONS: dict[tuple[CaseStatus, str], CaseStatus] = {
    (S.RECEIVED, A.SCREEN_PASS): S.SCREENED,
    (S.RECEIVED, A.SCREEN_REJECT): S.SCREENED_OUT,
    (S.SCREENED, A.SCHEDULE): S.SCHEDULED,
    (S.SCHEDULED, A.SCHEDULE): S.SCHEDULED,  # rescheduling
    (S.SCHEDULED, A.RECORD_CHECK): S.CHECKED,
    (S.SCHEDULED, A.VISIT_FAILED): S.SCREENED,  # to be scheduled and visited again
    (S.CHECKED, A.SEND_BACK): S.SCREENED,  # to be scheduled and visited again, by other officers
    (S.CHECKED, A.DETERMINE_ELIGIBLE): S.DETERMINED,
    (S.CHECKED, A.DETERMINE_INELIGIBLE): S.INELIGIBLE,
    # Eligible, but nothing is due (the cost is within the deductible, or the year's relief is paid in full).
    (S.CHECKED, A.DETERMINE_NO_RELIEF): S.NO_RELIEF,
    (S.INELIGIBLE, A.REQUEST_REVIEW): S.SCREENED,  # checked again, by other officers
    (S.DETERMINED, A.REVIEW_PASS): S.REVIEWED,
    (S.DETERMINED, A.REVIEW_FAIL): S.REVIEW_FAILED,
    (S.REVIEWED, A.POST_NOTICE): S.IN_NOTICE,
    # to be scheduled and checked again, by officers other than those of the checks objected to (not the old visit)
    (S.IN_NOTICE, A.OBJECTION_UPHELD): S.SCREENED,
    # an objection received on the period's last day, typed after the notice closed (its payment held meanwhile)
    (S.READY_TO_PAY, A.OBJECTION_UPHELD): S.SCREENED,
    (S.PAYMENT_FAILED, A.OBJECTION_UPHELD): S.SCREENED,
    (S.IN_NOTICE, A.CLOSE_NOTICE): S.READY_TO_PAY,
    (S.READY_TO_PAY, A.ADD_TO_BATCH): S.IN_BATCH,
    (S.IN_BATCH, A.REMOVE_FROM_BATCH): S.READY_TO_PAY,
    (S.IN_BATCH, A.PAYMENT_SUCCEEDED): S.PAID,
    (S.IN_BATCH, A.PAYMENT_FAILED): S.PAYMENT_FAILED,
    (S.PAYMENT_FAILED, A.PAYEE_CORRECTED): S.READY_TO_PAY,
    **{
        (status, A.REDETERMINE_INELIGIBLE): S.INELIGIBLE
        for status in (S.DETERMINED, S.REVIEWED, S.IN_NOTICE, S.READY_TO_PAY, S.PAYMENT_FAILED)
    },
    **{
        (status, A.WITHDRAW): S.WITHDRAWN
        for status in (S.RECEIVED, S.SCREENED, S.SCHEDULED, S.CHECKED, S.DETERMINED, S.REVIEWED)
    },
    # Only a case with no determination yet is merged into another (a decided amount is never dropped silently).
    **{(status, A.MERGE): S.MERGED for status in (S.RECEIVED, S.SCREENED, S.SCHEDULED, S.CHECKED)},
}


def allowed_actions(status: str) -> tuple[Action, ...]:
    """The actions that may be taken on a case in `status`, in table order."""
    return tuple(Action(action) for (current, action) in TRANSITIONS if current == status)


TERMINAL: frozenset[CaseStatus] = frozenset(s for s in CaseStatus if not allowed_actions(s))
"""Statuses no action leads out of: screened_out, no_relief, review_failed, paid, withdrawn, merged."""


def next_status(current: str, action: str) -> CaseStatus:
    """The status `action` leads to from `current`; `InvalidState` when the table does not allow it."""
    target = TRANSITIONS.get((current, action))  # type: ignore[call-overload]
    if target is None:
        allowed = [status_zh(s) for (s, a) in TRANSITIONS if a == action]
        said = refused_in_status(current, ACTION_VERBS_ZH.get(action, action))
        raise InvalidState(said + (f"：只有「{'」或「'.join(allowed)}」的案件才能办理" if allowed else ""))
    return target


# What a refusal calls an action of the table (`next_status`), as a verb.
ACTION_VERBS_ZH = {
    "screen_pass": "初筛通过", "screen_reject": "初筛不通过", "schedule": "安排入户核查", "record_check": "录入入户核查",
    "send_back": "退回重新核查", "visit_failed": "登记入户未能核查", "determine_eligible": "认定符合条件",
    "determine_ineligible": "认定不符合条件", "determine_no_relief": "认定无需发放保障金", "request_review": "登记复核申请",
    "review_pass": "录入村级评议通过", "review_fail": "录入村级评议未通过", "post_notice": "进入公示",
    "objection_upheld": "登记异议成立", "close_notice": "结束公示", "add_to_batch": "加入支付批次",
    "remove_from_batch": "移出支付批次", "payment_succeeded": "登记支付成功", "payment_failed": "登记支付失败",
    "payee_corrected": "按变更后的收款信息转为待支付", "withdraw": "撤回", "merge": "合并到同户案件",
    "redetermine_ineligible": "重新认定不符合条件",
}


STATUS_LABELS_ZH: dict[CaseStatus, str] = {
    S.RECEIVED: "已接收",
    S.SCREENED: "已初筛",
    S.SCREENED_OUT: "初筛未通过",
    S.SCHEDULED: "已排期",
    S.CHECKED: "已核查",
    S.DETERMINED: "已认定",
    S.INELIGIBLE: "不符合条件",
    S.NO_RELIEF: "无需救助",
    S.REVIEWED: "已评议",
    S.REVIEW_FAILED: "评议未通过",
    S.IN_NOTICE: "公示中",
    S.READY_TO_PAY: "待支付",
    S.IN_BATCH: "支付中",
    S.PAID: "已支付",
    S.PAYMENT_FAILED: "支付失败",
    S.WITHDRAWN: "已撤回",
    S.MERGED: "已合并",
}


del S, A


def status_zh(status: str) -> str:
    """A case's status as a refusal names it (已核查): `STATUS_LABELS_ZH`, the code itself for one it does not know."""
    return STATUS_LABELS_ZH.get(status, status)  # type: ignore[call-overload]


def refused_in_status(status: str, action: str) -> str:
    """Why `action` (what the caller was asked to do, as a verb: 记录核查) is refused to a case in `status`:
    案件当前状态为「已认定」，不能记录核查."""
    return f"案件当前状态为「{status_zh(status)}」，不能{action}"
