"""The Chinese of the payment, sampling and report pages: their codes' labels and their services' messages.

`zh(message)` knows these stages' (English) service messages and hands any other one to `labels.message_zh`,
so a message it does not know is still shown, as it is.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from ..payments.recoveries import RECOVERY_STATUS_ZH
from ..payments.bankfiles import BANK_FILE_COLUMNS_ZH, RETURN_COLUMNS_ZH
from ..payments.batch_read import SUPPLEMENT_STATUS_ZH
from ..payments.service import BATCH_STATUS_LABELS_ZH, ITEM_STATUS_LABELS_ZH
from ..sampling.flow import PARTY_ZH, ROUND_KIND_NAMES_ZH, ROUND_STATUS_ZH
from ..sampling.service import VERDICTS_ZH
from ..zhtable import Table, compile_table, translate
from . import labels

BATCH_STATUS = dict(BATCH_STATUS_LABELS_ZH)
ITEM_STATUS = dict(ITEM_STATUS_LABELS_ZH)
MOVEMENT_KINDS = {"budget": "合同预算拨入", "commit": "批次审批占用", "pay": "银行确认支付", "release": "释放回余额",
                  "fee": "服务费", "recover": "追回款退回资金"}
LEDGER_ACCOUNTS = {"grant": "合同拨款", "available": "可用余额", "committed": "已占用", "relief_paid": "已支付保障金",
                   "service_fee": "服务费", "relief_recovered": "已追回保障金"}
ROUND_STATUS = dict(ROUND_STATUS_ZH)
ROUND_STAGES = (("open", "承诺"), ("frozen", "冻结与揭示"), ("drawn", "已抽取"))
PARTIES = dict(PARTY_ZH)
WAITING_FOR = {"commitment:county": "县级复核方提交承诺", "commitment:insurer": "保险公司提交承诺",
               "freeze": "县级复核人员冻结总体", "public_value": "录入公开随机值",
               "reveal:county": "县级复核方揭示秘密值", "reveal:insurer": "保险公司揭示秘密值"}
BATCH_TODO = {"approve": "待审批", "signoff": "待县级签批", "release": "待发放", "return": "待导入银行回单"}
BATCH_TODO_ACT = {"approve": "审批", "signoff": "签批", "release": "发放"}  # the step a card counts, to say it
BATCH_TODO_OTHERS = {"approve": "其他财务人员", "signoff": "其他县级复核人员", "release": "其他财务人员"}
# what stops a batch's step for everyone (`payments.batch_stops.KINDS`)
BATCH_STOPS = {"contract": "服务合同未经县级确认", "held": "有案件因抽样复核暂停支付", "objection": "有案件的公示异议待处理",
               "accounts": "收款账户待核实放行", "fund": "资金余额不足"}
ELIGIBILITY = {"yes": "符合条件", "no": "不符合条件"}  # a re-check's conclusion, and the insurer's it is compared with
RECOVERY_FIELDS = {"amount": "还款金额", "paid_on": "还款日期", "reference": "银行流水号", "outcome": "重新认定结论"}
ROUND_KINDS = {"attribute": "按户抽样（属性抽样）", "monetary": "按金额抽样（金额单位抽样）"}
ROUND_KIND_NAMES = dict(ROUND_KIND_NAMES_ZH)  # in a round's name
METHODS = {"binomial": "二项分布", "hypergeometric": "超几何分布"}
# Why a frozen round missed a case of its period (`sampling.late_checks`): the next round of its kind takes it in.
MISSED_WHY = {"recorded_late": "冻结后才录入核查", "confirmed_late": "冻结后才确认认定"}
# The same, of a case in the round's population whose check was redone (sent back, objected to) after the freeze.
REDONE_WHY = {"recorded_late": "冻结后重新核查录入", "confirmed_late": "冻结后才确认认定"}
LIMITED_BY = {"statistical": "按置信度和可容忍偏差率计算", "minimum_rate": "按合同最低抽样比例",
              "population": "总体全部抽取"}
VERDICTS = dict(VERDICTS_ZH)
VERDICT_NOTES = {"accept": "偏差率上限不超过可容忍偏差率：核查工作质量可以接受。",
                 "expand": "偏差率上限超过可容忍偏差率：应扩大样本继续复核。",
                 "pending": "样本尚未全部复核，复核完成后给出结论。"}
# Why a pending verdict is waiting, when results were taken without the county's visit (sampling/service.evaluate)
VERDICT_WAITS_FOR_VISIT = ("其中 {n} 户的复核结果没有县级入户走访证据（经接口只报送了复核数据），按「尚未复核」计，不计入结论、"
                           "不产生暂停支付、追回或补发；补录走访证据后才计入。")
DEVIATION_REASONS = {"eligibility": "认定结论不一致", "relief": "保障金额不一致", "income": "人均纯收入差异超出容差"}
DEVIATION_KINDS = {"eligibility": "认定结论偏差", "amount": "金额偏差", "income": "收入偏差（不涉及金额）"}
CONSEQUENCES = {"hold": "暂停支付，待重新认定", "recovery": "追回多发金额", "supplement": "补发少发金额",
                "none": "无需处理"}
SUPPLEMENT_STATUS = dict(SUPPLEMENT_STATUS_ZH)
HOLD_STATUS = {"open": "暂停支付中", "decided": "已重新认定", "withdrawn": "已撤销（复核结果更正）"}
HOLD_OUTCOMES = {"proceed": "继续办理", "ineligible": "认定不符合条件"}
HOLD_PROPOSAL_STATUS = {"waiting": "待县级确认", "confirmed": "县级已确认，已生效", "declined": "县级已驳回，未生效",
                        "withdrawn": "随暂停支付撤销（复核结果更正）",
                        # withdrawn while the hold stayed (`holds.hold_out` `stale`)
                        "stale": "已撤销：提出后县级复核结果有变化（更正了复核结果，或另一轮抽样复核也发现偏差），"
                                 "不能再确认或驳回，须由主管按县级现在的复核结果重新认定",
                        # withdrawn by an insurer supervisor (`holds.withdrawn_by_supervisor`)
                        "by_supervisor": "保险公司主管已撤回，未生效",
                        # the same, in the list of proposals answered or withdrawn (/hold-proposals?status=done)
                        "changed": "县级复核结果有变，已撤销（更正了复核结果，或另一轮抽样复核也发现偏差）"}
RECOVERY_STATUS = dict(RECOVERY_STATUS_ZH)
WAIVER_OUTCOMES = {None: "待确认", "confirmed": "已确认核销", "declined": "已驳回",
                   "withdrawn": "已撤回（追回已结束）"}
REPAYMENT_STATUS = {"pending": "待确认", "confirmed": "已确认", "rejected": "已驳回"}
BASELINES = {"determination": "保险公司已确认的认定结果", "check": "保险公司入户核查按合同测算的结果"}
REPORT_CHANNELS = dict(labels.CHANNELS)
REPORT_RULES = {"income_line": "人均纯收入不高于收入线", "burden": "刚性支出明显超过收入"}
# A report's breakdown columns (`report_sheet`, the report page's heads), per figure.
BREAKDOWN_LABELS = {"referrals": "监测信息（条）", "households_visited": "入户户数", "checks": "完成核查（次）",
                    "late": "逾期核查（次）", "eligible": "认定符合（户）", "noticed": "公示（户）", "paid": "兑现（户）",
                    "paid_amount": "兑现金额（元）", "deviations": "复核偏差（户）"}
# A report's breakdowns, each with its title and key columns: on the report's page, and as sheets of its workbook.
BREAKDOWN_TITLES = {"village": ("按乡镇、村", ["乡镇", "村"]), "cause": ("按原因", ["原因"]),
                    "group": ("按户类型", ["户类型"])}
BREAKDOWN_SHEETS = {"village": ("按乡镇村", ["乡镇", "村"]), "town": ("按乡镇", ["乡镇"]), "cause": ("按原因", ["原因"]),
                    "group": ("按户类型", ["户类型"])}
# What the case list says it shows when it lists the cases behind a figure (one per reports.service.FIGURES).
REPORT_FIGURES = {
    "referrals": "本月监测信息涉及的案件", "new_cases": "本月新立案件", "checks": "本月完成入户核查的案件",
    "checked_households": "本月完成入户核查的案件", "cross_checks": "本月入户核查（含信息比对）的案件",
    "late": "本月逾期核查的案件", "visits": "本月入户走访的案件", "without_check": "本月入户未能核查的案件",
    "households_visited": "本月入户走访的案件", "person_visits": "本月入户走访的案件",
    "eligible": "本月认定符合条件的案件", "ineligible": "本月认定不符合条件的案件",
    "relief_determined": "本月认定符合条件的案件",
    "reviews_passed": "本月村级评议通过的案件", "reviews_failed": "本月村级评议未通过的案件",
    "notices_posted": "本月发布公示的案件", "noticed": "本月发布公示的案件", "noticed_relief": "本月发布公示的案件",
    "objections": "本月收到异议的案件", "objections_upheld": "本月异议成立的案件",
    "objections_dismissed": "本月异议不成立的案件", "objections_open": "本月异议待处理的案件",
    "paid": "本月兑现的案件", "paid_amount": "本月兑现的案件", "payment_failed": "本月支付失败的案件",
    "rechecked": "本月录入抽样复核结果的案件（含尚无走访证据的）", "deviations": "本月抽样复核经入户走访有偏差的案件",
}

FIELD_LABELS = {
    **BANK_FILE_COLUMNS_ZH, **RETURN_COLUMNS_ZH,  # the bank file's and its return's columns, as the rules name them
    "settled_on": "到账日期", "line": "行", "header": "表头", "format": "格式",
    "randomness": "随机数", "secret": "秘密值", "commitment": "承诺值", "party": "参与方", "value": "公开随机值",
    "public_value.description": "公开随机值说明", "public_value.available_on": "公布日期", "checked_from": "开始日期", "checked_to": "结束日期", "confidence": "置信度",
    "tolerable_rate": "可容忍偏差率", "expected_rate": "预期偏差率", "min_rate": "最低抽样比例", "kind": "抽样方式",
    "stratify_by_town": "按乡镇分层", "per_capita_income": "人均纯收入", "eligible": "是否符合条件",
    "relief_amount": "保障金额",
    "visited_on": "走访日期", "met_member": "见到的家庭成员", "signed_form": "签字的复核记录", "evidence": "走访照片",
    "opinion": "审核意见", "case_ids": "案件",
}


# (pattern, Chinese or a function of the match); the first full match wins.
_MESSAGES: Table = compile_table([
    # a rate typed on the sampling round's form (domain/money.py says it in English for the contract's problems too)
    (r"not a decimal rate: .*", "请填写小数，如 0.95"),
    (r"must lie between (\S+) and (\S+), got (\S+)", lambda m: f"应在 {m.group(1)} 至 {m.group(2)} 之间"),
])


def zh(message: str | None) -> str:
    """The Chinese for a service message of these stages, or of the earlier ones (`labels.message_zh`)."""
    text = (message or "").strip()
    said = translate(_MESSAGES, text)
    return labels.message_zh(text) if said is None else said


_HAN = re.compile(r"[\u4e00-\u9fff]")


def detail_zh(message: str | None, status: int) -> str:
    """A refusal's detail as an error page and the API say it: the Chinese of the message (`zh`), or, when no table
    says it, the status's plain sentence (`labels.ERROR_UNSAID`), never the English itself (logged, so the table of
    messages gets its line)."""
    said = zh(message)
    if _HAN.search(said):
        return said
    logging.getLogger("verifier.web").warning("a message without Chinese reached a refusal: %s", message)
    return labels.ERROR_UNSAID.get(status, "无法完成此操作。")


def eligibility_zh(eligible: bool) -> str:
    return ELIGIBILITY["yes" if eligible else "no"]


def recovery_field_zh(field: str) -> str:
    """A field of a repayment or re-determination form (their amount is the repayment's)."""
    return RECOVERY_FIELDS.get(field) or field_zh(field)


def field_zh(field: str) -> str:
    if field.startswith("case "):
        return "案件 " + field[5:]
    return FIELD_LABELS.get(field) or labels.field_label(field)


def field_problem(error: Any) -> str:
    """A `FieldError` said in Chinese (its `str`, the command line's line, a refusal's detail): 第 N 行，字段：问题,
    the row when it has one, the field's label (none for the whole file or body) and the message in Chinese."""
    message = zh(error.message)
    where = []
    if error.row is not None and not re.match(r"第 ?\d+ ?行", message):
        where.append(f"第 {error.row} 行")
    if error.field and error.field not in ("file", "body"):
        where.append(field_zh(error.field))
    return f"{'，'.join(where)}：{message}" if where else message


def skip_reason_zh(reason: str) -> str:
    """Why a case was left out of a batch (the rule says it in Chinese; an older English one through `zh`)."""
    return zh(reason)


def change_zh(action: str, payload: dict[str, Any] | None) -> str:
    """An audit entry's state change ("prepared → approved") in Chinese: a batch's statuses for a batch's entries,
    a case's otherwise; empty when the entry records no change of state."""
    before, after = (payload or {}).get("from"), (payload or {}).get("to")
    if not (isinstance(before, str) and isinstance(after, str)):
        return ""
    table = BATCH_STATUS if action.startswith("payment_batch.") else labels.STATUS_LABELS
    return f"{table.get(before, before)} → {table.get(after, after)}"


# Why a hand-picked visit is listed for the county reviewer (cases/hand_picked.py returns the codes).
HAND_PICKED_REASONS = {
    "no_reason": "未说明人工指派原因",
    "sent_back": "该户此前有核查被主管退回",
    "deviation": "该户此前的县级抽样复核发现偏差",
    "review": "该户此前对不符合条件的认定申请过复议",
    "same_officers": "上次核查过该户的核查员（或与其账号有密码关联的账号）再次走访（本县其他核查员不足）",
    "picked_before": "该主管此前也人工指派该核查员走访过该户",
    "high_share": "该主管近期人工指派的比例超过 {limit}%（{share}）",
}


def hand_picked_reasons(row: dict[str, Any]) -> list[str]:
    """A listed hand-picked visit's reasons, in Chinese, in the order of its `flags`."""
    return [HAND_PICKED_REASONS[f].format(limit=row.get("share_limit", ""), share=row.get("share") or "")
            for f in row["flags"]]


def rebind_obstacle_zh(problem: Any) -> str:
    """Why a waiting case cannot go to the corrected contract (`contract_review.service.rebind_obstacle`)."""
    return "更正后的" + labels.message_zh(problem.message)


def contract_waiting_zh(note: Any) -> str | None:
    """What a case bound to a contract not in force waits for (`contract_review.service.waiting_note`)."""
    if note is None:
        return None
    head = f"本案所按的服务合同 {note.contract_id}（{note.title}）"
    if note.kind == "cannot_move":
        return (f"{head}已被县级复核员拒绝确认，不会生效。县已确认的更正合同 {note.corrected_id} 不能接办本案："
                f"{rebind_obstacle_zh(note.obstacle)}。本案没有改按更正合同办理，不能认定和计算保障金："
                "请乡镇经办人与县级复核员核实，按更正合同的规定重新受理（如由农户申请），或说明理由后撤销本案。")
    if note.kind == "refused":
        return (f"{head}已被县级复核员拒绝确认，不会生效。本案等待县确认更正后的合同（同一县、同一期间）："
                "确认后自动改按更正合同办理；在此之前不能认定和计算保障金。")
    return f"{head}待县审核确认：合同所覆盖的每个县（区）的县级复核员确认前，本案不能认定和计算保障金。"
