"""What the pages call things, in Chinese: codes to labels, and the services' (English) messages to Chinese.

The services speak English in their errors (the API's callers are programs); the pages translate the messages
they know and show any other one as it is, so nothing is ever hidden from the user.
"""

from __future__ import annotations

import logging
import re

from typing import Any

from ..accounts.grants import GRANT_STATUS_ZH
from ..accounts.service import ROLE_NAMES_ZH
from ..checks.bills import BILL_KINDS_ZH
from ..contract import county_named as contract_county_named
from ..contract import declared_name
from ..domain.causes import CHANNEL_ZH
from ..documents.notice import CAUSE_LABELS
from ..notices.objections import STATUS_ZH as OBJECTION_STATUS_ZH
from ..domain.photo_times import WALL_UPLOAD_GRACE_DAYS
from ..domain.causes import BASES, DEFAULT_TABLE
from ..domain.eligibility import reason_in_chinese
from ..domain import risk
from ..domain.lifecycle import STATUS_LABELS_ZH
from ..domain.money import grouped_yuan
from ..domain.roster import CATEGORY_NAMES
from ..domain.registers import KIND_NAMES, MANUAL_SOURCE_NAMES
from ..zhtable import Table, compile_table, translate

ROLE_LABELS = dict(ROLE_NAMES_ZH)
# Why an officer may not make the check of a case checked again (cases.service.recheck_bars: after an upheld
# objection, a check sent back, a review request), said beside his name on the scheduling page before the supervisor
# picks; and the page's headline, by the strongest why among them (domain.objection_recheck.ORDER).
RECHECK_BARS = {"objection": "参加过异议成立的核查", "linked_objection": "账号与参加过异议成立的核查的核查员有密码关联",
                "sent_back": "参加过被退回的核查", "linked_sent_back": "账号与参加过被退回的核查的核查员有密码关联",
                "review": "参加过本案复核申请之前的核查",
                "linked_review": "账号与参加过本案复核申请之前的核查的核查员有密码关联"}
# The scheduling page's row of a case scheduled on a stale visit (`cases.service.stale_scheduled`), and its form's note.
REASSIGN = "原走访人员须回避，请改派"
REASSIGN_NOTE = ("当前走访已失效：原走访人员参加过本案须由其他核查员重新核查的核查（或其账号与这些核查员的账号有密码关联），"
                 "须回避。请改派其他核查员，保存后原走访结束。")
# The same, by why the visit ended (`cases.service.stale_whys`): the rotation rule (轮换) bars its officers now (the
# officer was told at the door to wait for the supervisor); too few others in the county, sent again by hand.
REASSIGNS = {"recheck": REASSIGN,
             "rotation": "轮换规则：原走访人员上次核查过该户（另一案件），或其账号与上次核查的核查员有密码关联，须回避，请改派",
             "rotation_by_hand": "轮换规则：原走访人员上次核查过该户（另一案件），或其账号与上次核查的核查员有密码关联；"
                                 "本县没有其他核查员可派，请主管说明理由后手动重新安排"}
REASSIGN_NOTES = {"recheck": REASSIGN_NOTE,
                  "rotation": ("当前走访已失效：按轮换规则，原走访人员上次核查过该户（另一案件），或其账号与上次核查的核查员"
                               "有密码关联，本次须由其他核查员走访。"
                               "请改派其他核查员，保存后原走访结束。"),
                  "rotation_by_hand": ("当前走访已失效：按轮换规则，原走访人员上次核查过该户（另一案件），或其账号与上次核查的"
                                       "核查员有密码关联。本县没有其他核查员可派："
                                       "您可以再次安排他们，但须在“原因”中说明理由（记入审计日志），保存后原走访结束。")}
RECHECK_HEADLINES = {"objection": "本案公示期间异议成立，须由其他核查员重新入户核查。",
                     "sent_back": "本案的核查已被退回，须由其他核查员重新入户核查。",
                     "review": "本案已登记复核申请，复核须由其他核查员入户核查。"}
# The users list's filter on accounts: in use or disabled (停用).
ACCOUNT_STATES = {"active": "在用", "disabled": "已停用"}
GRANT_STATUS = dict(GRANT_STATUS_ZH)
STATUS_LABELS = {str(k): v for k, v in STATUS_LABELS_ZH.items()}
BILL_KINDS = dict(BILL_KINDS_ZH)


class ContractNames(dict[str, str]):
    """A table of labels that, for a code it does not hold, gives the name a loaded contract declares for it
    (a county's own cause such as 因残): `get` and `[]` both fall back; `items()` lists only the fixed ones."""

    def __init__(self, kind: str, fixed: dict[str, str]) -> None:
        super().__init__(fixed)
        self.kind = kind

    def __missing__(self, key: str) -> str:
        name = declared_name(self.kind, key) if isinstance(key, str) else None
        if name is None:
            raise KeyError(key)
        return name

    def get(self, key: Any, default: Any = None) -> Any:  # type: ignore[override]
        try:
            return self[key]
        except (KeyError, TypeError):
            return default

    def __contains__(self, key: object) -> bool:
        return self.get(key) is not None


CAUSES = ContractNames("causes", dict(CAUSE_LABELS))
GROUPS = ContractNames("groups", DEFAULT_TABLE.group_names())
COUNTIES = ContractNames("counties", {})  # a county's name as its contract gives it (南陵县), for `|county`


REVIEW_STATUSES = (("open", "待核实"), ("done", "已核实"), ("all", "全部"))
"""The status choice of a county reviewer's list of things to look into (一账多户, 未收到救助金): `review_statuses`."""


def review_statuses(done: str) -> tuple[tuple[str, str], ...]:
    """`REVIEW_STATUSES` with 已核实 under the list's own code (`resolved`, `cleared`)."""
    return tuple((done if code == "done" else code, label) for code, label in REVIEW_STATUSES)


county_named = contract_county_named  # 示范县（340223）, or 县（区）340223: the rules say it so too


RELATIONS = {"head": "户主", "spouse": "配偶", "child": "子女", "parent": "父母", "other": "其他"}
HOUSEHOLD_PROPOSAL_STATUS = {"pending": "待确认", "confirmed": "已确认", "declined": "已驳回", "withdrawn": "已撤销"}
HOUSEHOLD_PROPOSAL_KINDS = {"merge": "合并家庭", "move": "迁移成员"}
LABOUR = {"full": "全劳力", "partial": "半劳力", "none": "无劳力"}
SOURCES = dict(MANUAL_SOURCE_NAMES)  # the cross-check sources an officer records (as the household file names them)
FINDINGS = {"consistent": "一致", "inconsistent": "不一致"}
# An evidence file's kind as the case page names it (the kinds `checks.service.EVIDENCE_TYPES` accepts)
EVIDENCE_KINDS = {"image/jpeg": "JPEG 照片", "image/png": "PNG 照片", "image/webp": "WebP 照片",
                  "application/pdf": "PDF 扫描件"}
VISIT_OUTCOMES = {"not_home": "家中无人", "refused": "拒绝核查", "moved_away": "已搬离", "other": "其他原因"}
VISIT_ENDED = {"rescheduled": "已改期", "failed": "未能核查", "sent_back": "核查被退回", "objection_upheld": "异议成立后撤销",
               "officers_stood_aside": "原走访人员须回避，已改派", "rotation": "轮换规则：原走访人员须回避，已改派",
               "rotation_by_hand": "轮换规则：原走访人员须回避，已重新安排", "merged": "案件已合并", "ended": "已结束"}
"""Why a visit no longer current ended (`VisitOut.ended`, derived on the case page's read model)."""
CHANNELS = dict(CHANNEL_ZH)
# why a photo of a notice on the wall does or does not count for its posting (domain.photo_times.wall_photo_standing)
WALL_PHOTO_STANDING = {"in_period": "公示期内", "no_time": "照片没有拍摄时间，不计入",
                       "outside_period": "不在公示期内拍摄，不计入",
                       "after_upload": "拍摄时间晚于上传时间（相机时钟有误或时间被改过），不计入",
                       "uploaded_late": f"公示期满 {WALL_UPLOAD_GRACE_DAYS} 天后才上传，不计入"}
# The figure a determination takes off the year's relief (`Determination.already_paid`, `payments.year_paid.Priced.
# already`): the larger of what was granted on the household's paid cases of the cause and year (their relief and the
# supplements a re-check found) and the money its other cases took of the year (paid less recovered, and to be paid).
# Not the money paid alone (a recovery repaid lowers the money, not this figure; a case not paid yet counts in it):
# never labelled 本年已付.
ALREADY_COUNTED = "本年已计保障金"
ALREADY_COUNTED_NOTE = "本户本年度同一致贫原因其他案件已核定的保障金与已发放或待发放的金额，取较大者"
RULES = {"income_line": "人均纯收入不高于收入线", "burden": "无稳定收入且刚性支出明显超过收入", "none": "不符合条件"}
REVIEW_RESULTS = {"pass": "通过", "fail": "未通过"}
NOTICE_STATUS = {"open": "公示中", "closed": "已结束"}
ITEM_STATUS = {"listed": "公示中", "cleared": "公示无异议", "withdrawn": "已撤下（异议成立）"}
CONFLICT_SOURCES = {"referral_import": "部门名单导入", "application": "农户申请", "home_check": "入户核查"}
OBJECTION_RAISERS = {"anonymous": "匿名", "household": "本户家庭成员", "relative": "亲属", "neighbour": "邻居",
                     "villager": "同村村民", "village_cadre": "村干部", "other": "其他"}
OBJECTION_VIA = {"in_person": "当面反映", "phone": "电话", "letter": "信件", "box": "村意见箱"}
OBJECTION_STATUS = dict(OBJECTION_STATUS_ZH)  # as the rule names them in its refusals (notices.objections)
# `verifier contracts list`: a contract's county review, and each county's answer (the contracts' page says them
# at length: contract_review.service.STATUS_ZH, DECISION_ZH).
CONTRACT_LIST_STATUS = {"pending": "待县审核确认", "accepted": "已确认", "refused": "已拒绝"}
CONTRACT_LIST_DECISION = {"accepted": "已确认", "refused": "已拒绝", "before_control": "本控制启用前已载入，视为已确认"}
INCOME_FIELDS = {"wages": "工资性收入", "business_net": "经营净收入", "property_net": "财产净收入",
                 "transfer_net": "转移净收入", "productive_costs": "生产经营性支出"}
ROSTER = {**CATEGORY_NAMES, "none": "不在名册"}
ROSTER_STATUS = {"pending": "待确认", "confirmed": "已确认生效", "rejected": "已退回"}
REGISTER_STATUS = {"pending": "待确认（未生效）", "confirmed": "已确认生效", "declined": "已退回"}
RISK_STATUS = dict(risk.STATUS_NAMES)
RISK_EVIDENCE = dict(risk.EVIDENCE_KINDS)
RIGID_FIELDS = {"medical_self_paid": BASES["medical_self_paid"], "schooling": BASES["schooling"],
                "disaster_loss": BASES["disaster_loss"], "other_rigid": BASES["other_rigid"]}
# Follow-ups (回访) and needs passed to departments (发点球).
FOLLOWUP_METHODS = {"visit": "入户回访", "phone": "电话回访"}
INCOME_CHANGES = {"up": "增加", "same": "基本持平", "down": "减少"}
SATISFACTION = {"satisfied": "满意", "basic": "基本满意", "dissatisfied": "不满意"}
RECEIVED = {"yes": "已收到", "no": "未收到", "partly": "部分收到", "unknown": "未询问"}  # 是否收到救助金
# A follow-up recorded by a setter of the payee account alone (followups/alone_look.py, migration 0065).
FOLLOWUP_ALONE = {"waits": "待县级复核", "confirmed": "县级已复核确认", "refused": "县级复核已退回，须重新回访"}
# A closed receipt alert's finding (回访核实); `unknown`: closed before the question was asked.
RECEIPT_OUTCOMES = {"received": "核实已收到", "misdirected": "核实未收到", "unknown": "未记录"}
# How a proposal to withdraw a 核实未收到 ended without a withdrawal (followups/receipt_withdraw.py, migration 0057).
WITHDRAW_ENDED = {"dropped": "已撤销提议", "declined": "已驳回撤回"}
WITHDRAW_ENDED_BY = {"dropped": "撤销提议", "declined": "驳回撤回"}
SIGNOFF_DECISIONS = {"given": "同意签批", "refused": "不同意签批"}  # a batch's county sign-off decisions
RECEIPT_OUTCOME_HINTS = {"received": "农户误会或钱已找到，不再处理",
                         "misdirected": "钱付到了别处：追回未收到的部分，并向农户补发（须另一名县级审核人员确认）"}
NEEDS = {"medical_assistance": "医疗救助", "dibao": "低保", "housing_repair": "危房改造", "schooling_aid": "教育资助",
         "employment": "就业帮扶"}
NEED_SOURCES = {"check": "入户核查", "followup": "回访"}
NEED_STATUS = {"open": "待部门答复", "answered": "已答复"}
NEED_STATES = {"open": "待答复", "overdue": "已逾期", "answered": "已答复"}  # the needs list's tabs
NEED_OUTCOMES = {"met": "已解决", "partly": "部分解决", "declined": "不符合条件"}

REGISTER_KINDS = dict(KIND_NAMES)
FINDING_SOURCES = {**SOURCES, **KIND_NAMES}
FINDING_EFFECTS = {"excludes": "排除条件", "explain": "需说明"}
FINDING_STATUS = {"open": "待处理", "explained": "已说明", "upheld": "属实（不符合条件）"}
FEED_STATUS = {"arrived": "已按期报送", "late": "逾期后报送", "overdue": "逾期未报送", "due": "未到期"}
FEED_SOURCES = {**CHANNELS, **KIND_NAMES}
# The lists an export entry names as its subject (`audit_service.record_export`), as the downloads are named
EXPORT_KINDS = {"case_ledger": "案件台账", "notices": "公示", "payment_batches": "支付批次", "payment_items": "支付明细",
                "samples": "抽样复核样本", "audit_entries": "审计日志"}

ACTIONS = {
    "case.screen_pass": "初筛通过", "case.screen_reject": "初筛未通过",
    "case.screen_out_propose": "提出初筛不通过（待他人确认）",
    "case.review_fail_propose": "记录村级评议未通过（待他人确认）", "case.schedule": "安排入户核查",
    "case.record_check": "录入入户核查", "case.visit_failed": "入户未能核查，待重新安排",
    "case.request_review": "登记复核申请，重新核查", "case.determine_eligible": "认定符合条件",
    "case.determine_ineligible": "认定不符合条件", "case.review_pass": "村级评议通过",
    "case.review_fail": "村级评议未通过", "case.post_notice": "进入公示", "case.objection_upheld": "异议成立，退回重新核查",
    "case.close_notice": "公示结束，待支付", "case.add_to_batch": "加入支付批次",
    "case.remove_from_batch": "移出支付批次", "case.payment_succeeded": "支付成功", "case.payment_failed": "支付失败",
    "case.payee_corrected": "收款信息变更获批，转为待支付", "case.withdraw": "撤回",
    "payee_change.request": "申请变更收款人", "payee_change.approve": "批准收款人变更",
    "payee_change.reject": "驳回收款人变更", "case.payee_set": "设置收款信息",
    "payee_account.clear": "核实一账多户或工作人员本人账户（收款账户），解除暂缓",
    "evidence.upload": "上传佐证材料", "evidence.sweep": "清理无记录引用的证明材料文件",
    "objection.record": "登记异议", "objection.resolve": "处理异议",
    "notice.post": "发布公示", "notice.close": "结束公示",
    "notice.wall_photo": "上传公示张贴照片", "notice.posting_confirm": "确认公示已张贴", "referrals.application": "录入农户申请",
    "referrals.import": "导入监测信息",
    "referrals.import_refused_roster": "导入的监测信息文件被退回（按县防返贫监测名单核对的行数、暂不显示结果的行数）",
    "roster.import": "导入脱贫户和监测对象名册（待另一名县级复核员确认）",
    "roster.confirm": "另一名县级复核员确认名册，名册生效", "roster.reject": "退回待确认的名册（导入人撤回或另一名县级复核员退回）", "case.determine_no_relief": "认定符合条件但无需发放保障金",
    "payment_batch.create": "生成支付批次", "payment_batch.approve": "审批支付批次",
    "payment_batch.county_signoff": "县级签批支付批次", "payment_batch.release": "发放支付批次（生成银行文件）",
    "payment_batch.bank_file": "下载银行文件", "payment_batch.bank_return": "导入银行回单",
    "payment_batch.cancel": "撤销支付批次", "fund.open": "建立合同资金账户", "contract.add": "载入服务合同（待县审核确认）",
    "contract.accept": "县级复核员确认服务合同", "contract.refuse": "县级复核员拒绝确认服务合同",
    "case.contract_rebound": "改按县已确认的更正合同办理（原合同被拒绝确认）",
    "case.contract_not_rebound": "未改按更正合同办理（更正合同不能接办本案）",
    "county_conflict.record": "记录跨县重复登记", "user.add": "新增用户", "user.disable": "停用用户",
    "user.enable": "启用用户", "user.password": "重设密码", "user.password_own": "本人修改密码", "user.logout": "退出登录",
    "user.roles": "增加角色", "user.role.propose": "提出角色授权", "user.role.confirm": "确认角色授权",
    "user.role.refuse": "拒绝角色授权",
    "recusal.declare": "回避申报：增加一项", "recusal.removal_requested": "回避申报：提出删除一项",
    "recusal.removal_confirmed": "回避申报：另一管理员确认删除", "recusal.removal_refused": "回避申报：另一管理员不同意删除",
    "recusal.refused": "回避：因与本户成员存在回避关系被拒绝办理",
    "staff_account.declare": "工作人员本人账户：增加一个", "staff_account.removal_requested": "工作人员本人账户：提出删除",
    "staff_account.removal_confirmed": "工作人员本人账户：另一管理员确认删除",
    "staff_account.removal_refused": "工作人员本人账户：另一管理员不同意删除",
    "sampling.round_opened": "开始抽样复核轮次", "sampling.committed": "提交随机数承诺",
    "sampling.round_frozen": "冻结抽样总体", "sampling.round_committed": "抽样总体写入签名检查点",
    "sampling.public_value_entered": "录入公开随机值", "sampling.revealed": "揭示秘密值",
    "sampling.passed_over": "略过未按期揭示的一方", "sampling.drawn": "抽取样本",
    "sampling.result_recorded": "录入复核结果", "sampling.recheck_evidence_uploaded": "上传复核走访证据", "sampling.result_visit_added": "补录复核走访证据", "sampling.expanded": "扩大样本",
    "places.import": "导入乡镇村名单", "place.add": "乡镇村名单添加村", "village_meeting.record": "记录村级评议会",
    "sampling.result_corrected": "更正复核结果", "case.send_back": "核查退回，重新入户核查",
    "payment_batch.remove_item": "移出支付批次明细", "payment_batch.signoff_refused": "县级签批不同意，退回批次",
    "case.application_edited": "修改申请信息",
    "case.merge": "家庭合并，本案并入另一案件", "case.merged_in": "家庭合并，另一案件并入本案",
    "household.merge": "合并家庭", "household.member_move": "迁移家庭成员",
    "household.merge_proposed": "提交合并家庭申请（待另一人确认）", "household.move_proposed": "提交迁移成员申请（待另一人确认）",
    "household.change_declined": "驳回合并家庭或迁移成员申请", "household.change_withdrawn": "撤销合并家庭或迁移成员申请",
    "household.risk_removed": "标记风险消除", "household.risk_restored": "撤销风险消除（风险恢复）",
    "household.export": "导出一户一档", "export.spreadsheet": "导出表格",
    "personal.view": "查阅个人信息（当日首次，次数见查阅记录）",
    "sampling.deviation_recorded": "复核偏差：暂停支付或追回", "case.held": "抽样复核发现偏差，暂停支付",
    "case.hold_withdrawn": "复核结果更正，撤销暂停支付", "case.hold_redetermined": "暂停支付后重新认定",
    "case.hold_redetermination_proposed": "暂停支付后重新认定（待县级确认）",
    "case.hold_redetermination_declined": "驳回待县级确认的重新认定",
    "case.hold_redetermination_recalled": "主管撤回待县级确认的重新认定",
    "case.hold_redetermination_withdrawn": "县级复核结果有变化，撤销待县级确认的重新认定",
    "case.redetermine_ineligible": "重新认定不符合条件",
    "recovery.opened": "发起追回", "recovery.withdrawn": "撤销追回（核实结果更正：复核或回访）",
    "recovery.repayment_recorded": "登记追回还款", "recovery.repayment_confirmed": "确认追回还款",
    "recovery.repayment_rejected": "驳回追回还款登记", "recovery.waived": "核销追回", "recovery.waiver_requested": "申请核销追回",
    "recovery.waiver_declined": "驳回核销申请",
    "case.supplement_opened": "抽样复核发现少发，待补发", "case.supplement_withdrawn": "核实结果更正（复核或回访），撤销补发",
    "case.supplement_confirmed": "另一名县级复核人员确认补发",
    "followup.record": "录入回访", "followup.refused": "回访被拒绝：本人参与了改变收款账户或支付",
    "followup.receipt_resolved": "核实回访中未收到救助金",
    "followup.assigned": "保险公司主管指派登记收款账户的人员回访（本县没有其他核查员）",
    "followup.alone_confirmed": "县级审核人员确认登记收款账户的人员独自录入的回访",
    "followup.alone_refused": "县级审核人员退回登记收款账户的人员独自录入的回访，须重新回访",
    "followup.receipt_confirmed": "另一名县级审核人员复核“核实已收到”（收款账户已变更或收款人不是本户成员）",
    "followup.receipt_returned": "另一名县级审核人员退回“核实已收到”，重新核实（收款账户已变更或收款人不是本户成员）",
    "followup.receipt_withdraw_proposed": "提议撤回“核实未收到”（待另一名县级审核人员确认）",
    "followup.receipt_withdrawn": "另一名县级审核人员确认撤回“核实未收到”，追回和补发已撤销，重新核实",
    "followup.receipt_withdraw_dropped": "提议人撤销撤回“核实未收到”的提议，核实未收到照常有效",
    "followup.receipt_withdraw_declined": "另一名县级审核人员驳回撤回“核实未收到”的提议，核实未收到照常有效",
    "need_referral.create": "需求转交部门（发点球）",
    "need_referral.answer": "录入部门答复",
    "case.add_bills": "补录核查票据",
    "registers.import": "导入部门比对名单（待另一名县级复核员确认）", "registers.match": "部门信息比对发现", "register_finding.answer": "处理比对发现",
    "registers.confirm": "另一名县级复核员确认部门比对名单，名单生效",
    "registers.decline": "退回待确认的部门比对名单（导入人撤回或另一名县级复核员退回）",
}


def action_label(action: str) -> str:
    """The Chinese of an audit entry's action; an unknown one is shown as it is (tests keep the table complete)."""
    return ACTIONS.get(action, action)

FIELD_LABELS = {
    "visited_on": "核查日期", "late_entry_reason": "补录原因", "officers": "核查人员", "members": "家庭成员", "photos": "照片", "evidence": "照片",
    "items": "批次明细", "payee.account_name": "收款人", "payee.bank": "开户银行", "payee.account_number": "银行账号",
    "stable_income": "稳定收入来源", "note": "备注", "decision": "初筛结论", "reason": "原因", "roles": "角色",
    "held_on": "评议日期", "result": "评议结果", "posted_on": "公示日期", "town": "乡镇", "village": "村",
    "county_code": "县（区）", "received_on": "收到日期", "summary": "异议内容", "case_id": "案件", "outcome": "处理结果",
    "visit_on": "走访日期", "vehicle": "车辆", "days": "天数", "file": "文件", "category": "名册类别", "channel": "来源渠道",
    "recusal": "回避", "id_number": "身份证号", "name": "姓名", "household_group": "户类型", "cause": "原因", "amount": "金额",
    "referred_on": "日期", "household_size": "家庭人口", "phone": "联系电话", "contract_id": "服务合同",
    "tree_size": "树大小", "first": "较早的树大小", "second": "较晚的树大小", "index": "序号", "raised_by": "反映人", "received_via": "收到方式",
    "resolved_on": "处理日期", "venue": "评议地点", "attendees": "参会人员", "minutes": "会议记录",
    "entries": "评议农户", "confirm": "确认",
    "household_id": "家庭", "from_household_id": "并入的家庭", "to_household_id": "迁入的家庭", "member_id": "家庭成员",
    "new_head_member_id": "原户新户主", "relation": "与户主关系", "head_relation": "被并入户户主与户主的关系",
    "q": "搜索",
    "done_on": "回访日期", "method": "回访方式", "income_change": "收入变化", "risk_remains": "致贫风险是否仍在",
    "satisfaction": "满意度", "new_needs": "新的需求", "payment_item_id": "支付", "need": "需求",
    "department": "责任部门", "due_on": "答复期限", "answer": "部门答复", "answered_on": "答复日期",
    "followup_id": "回访", "month": "月份", "received": "是否收到救助金", "received_amount": "户称收到的金额",
    "kind": "名单类型", "bureau": "报送部门", "as_of": "数据日期",
    "valid_until": "有效期至", "capital": "注册资本", "company": "企业名称", "plate": "号牌号码", "value": "车辆价值",
    "price": "成交价格", "address": "房屋坐落", "area": "建筑面积", "employer": "工作单位", "since": "入职日期",
    "self_paid": "个人自付", "settled_on": "结算日期", "total": "总费用", "year": "年度",
    "username": "用户名", "password": "密码", "counties": "县（区）", "all_counties": "全部县（区）",
    **{f"income.{k}": v for k, v in INCOME_FIELDS.items()},
    **{f"rigid_expenditure.{k}": v for k, v in RIGID_FIELDS.items()},
}


# (pattern, Chinese or a function of the match); the first full match wins.
_MESSAGES: Table = compile_table([
    (r"must not be empty", "不能为空"),
    (r"not an amount of yuan with at most two decimals: .*", "请填写金额（元），最多两位小数，如 1200.50"),
    (r"money must be .*", "请填写金额（元），如 1200.50"),
    (r"must not be negative.*", "不能为负数"),
    (r"must be between 1 and (\d+)(?:, got .*)?", lambda m: f"应在 1 至 {m.group(1)} 之间"),
    (r"unknown household group .*", "请选择户类型"),
    (r"unknown channel .*", "请选择来源渠道"),
    (r"a county code is six digits, got .*", "县（区）代码为 6 位数字"),
    (r"unknown key", "无法识别的设置项，请核对拼写"),
])


# What a form or a page says when a service's message has no Chinese yet: never the English itself (logged, so the
# table of messages gets its line).
UNSAID = "填写的内容有误，请核对后重新提交。"
_HAN = re.compile(r"[\u4e00-\u9fff]")
_log = logging.getLogger("verifier.web")


def said_in_chinese(message: Any, *, labelled: bool = False) -> str:
    """`{{ e|said }}`: a message shown on a page, in Chinese whatever reached it. `labelled`: a form's general line
    "字段：message", whose part after the label must be Chinese."""
    text = "" if message is None else str(message)
    head, sep, said = text.partition("：") if labelled and "：" in text else ("", "", text)
    if not said.strip() or _HAN.search(said):
        return text
    _log.warning("a message without Chinese reached a page: %s", text)
    return f"{head}{sep}{UNSAID}"


def message_zh(message: str) -> str:
    """The Chinese for a service message, or the message itself when it is not one we know."""
    text = message.strip()
    said = translate(_MESSAGES, text)
    if said is not None:
        return said
    from ..contract_zh import message_zh as contract_message_zh  # a contract's problem reaching a page

    return contract_message_zh(text) or text


def file_problem(problem: Any) -> str:
    """One problem of an imported file (a `FieldError`) as a clerk reads it: 第 N 行，列：问题 (the row and the
    column when the problem has them), in Chinese; the command line's imports print these."""
    message = message_zh(problem.message)
    where = []
    if problem.row is not None and not re.match(r"第 ?\d+ ?行", message):
        where.append(f"第 {problem.row} 行")
    if problem.field and problem.field != "file":
        where.append(f"“{field_label(problem.field)}”列")
    return f"{'，'.join(where)}：{message}" if where else message


def labelled(label: str, message: str) -> str:
    """A message under its field's name, as a page lists the errors of fields it has no box for: 身份证号：… .
    A message that already starts with that name (回避：您与本户成员存在回避关系…) is not named twice."""
    return message if not label or message.startswith(f"{label}：") else f"{label}：{message}"


def field_label(field: str) -> str:
    m = re.fullmatch(r"members\[(\d+)\]\.?(\w*)", field)
    if m:
        part = {"name": "姓名", "id_number": "身份证号", "relation": "关系", "labour": "劳动能力"}.get(m.group(2), "")
        return f"第 {int(m.group(1)) + 1} 名成员{part}"
    m = re.fullmatch(r"bills\[(\d+)\]\.?(\w*)", field)
    if m:
        part = {"kind": "种类", "issuer": "开具单位", "number": "号码", "amount": "金额"}.get(m.group(2), "")
        return f"第 {int(m.group(1)) + 1} 张票据{part}"
    return FIELD_LABELS.get(field, field)



# A case closed with no relief due (checks/service.py `determine`): its eligibility reason, then the basis and the
# figure taken off it (`ALREADY_COUNTED`).
_NO_RELIEF = re.compile(r"(?P<reason>.+); but no relief is due on a verified basis of (?P<basis>\S+) "
                        r"\(already paid (?P<already>\S+)\)")


def reason_zh(reason: str | None) -> str:
    """The determination's reason (written by the eligibility rule in English) in Chinese; a case closed with no
    relief due says its basis and what the year had already counted, by the name the pages give it."""
    if not reason:
        return ""
    m = _NO_RELIEF.fullmatch(reason.strip())
    if m:
        already = grouped_yuan(m.group("already"))
        taken = "" if already == "0.00" else f"，扣除{ALREADY_COUNTED} {already} 元后"
        return (f"{reason_zh(m.group('reason'))}；但按核实的计算基数 {grouped_yuan(m.group('basis'))} 元计算"
                f"{taken}，本次没有应发的保障金")
    chinese = reason_in_chinese(reason)
    return chinese or message_zh(reason.strip())


# What a page says after an action, by the `done` of the address it is sent to (see `common.done_message`).
DONE_MESSAGES = {
    "recusal_declared": "回避申报已保存（身份证号已加密保存，页面只显示部分号码），并写入审计日志。",
    "staff_account_declared": "本人银行账户已保存（账号加密保存，页面只显示后 4 位），并写入审计日志。",
    "recusal_removal_asked": "已提出删除。在另一位管理员确认之前，该项仍然有效。",
    "recusal_removal_confirmed": "已确认删除该项回避申报。",
    "recusal_removal_refused": "已不同意删除，该项回避申报继续有效。",
    "risk_removed": "已标记该户风险消除，并写入审计日志。",
    "risk_restored": "已撤销该户的风险消除标记，风险恢复。",
    "finding": "比对发现已处理。",
    "application": "申请已录入，已生成新案件。",
    "merged": "申请已录入，并入该户已有的案件。",
    "screened": "初筛结果已保存。",
    "screen_out_proposed": "已提出初筛不通过。本案由部门名单转介，须由本乡镇其他经办人或县级复核人员确认后才结案。",
    "review": "村级评议已记录。",
    "review_fail_proposed": "已记录村级评议未通过。该户经保险机构认定符合条件，须由本县其他经办人或县级复核人员确认后才结案。",
    "review_request": "复核申请已登记，案件退回重新排期，须由未参加首次核查的核查员入户。",
    "scheduled": "走访已安排。",
    "scheduled_late": "走访已安排。走访日期晚于核查期限，核查将记为逾期。",
    "determined": "认定结果已确认。",
    "determined_already": "本案的认定结果此前已确认（重复提交未再保存），以下是案件的当前情况。",
    "check": "入户核查已提交。",
    "bills_added": "票据已补录：认定页按补录后的票据计算。",
    "check_done": "本案的入户核查已提交，无需再填写；以下是已保存的内容。",
    "attempt": "已登记未能核查，案件退回主管重新安排走访。",
    "attempt_already": "这次走访的未能核查情况此前已登记（重复提交未再保存），案件已退回主管重新安排走访。",
    "already": "这份核查此前已提交成功（重复提交未再保存），以下是已保存的内容。",
    "notice": "公示已发布。",
    "notice_left_out": "公示已发布。有案件须由其他经办人列入公示，未列入本公示。",
    "objection": "异议已登记。",
    "objection_already": "这条异议此前已登记（重复提交未再保存）。",
    "resolved": "异议已处理。",
    "objection_upheld": ("异议成立：该户已撤出名单，案件退回待排期，由保险公司主管另派核查员重新入户核查"
                         "（参加过原核查的核查员不能再核查该户）。"),
    "closed": "公示已结束，名单内案件转为待支付。",
    "plan": "排期已应用。",
    "batch": "支付批次已生成，待财务审批。",
    "batch_approved": "批次已审批，资金已占用。",
    "batch_signed_off": "批次已经县级签批。",
    "batch_released": "批次已发放，银行文件已生成，可下载后交银行。",
    "batch_cancelled": "批次已撤销，批次内案件回到待支付。",
    "return": "银行回单已导入。",
    "return_repeated": "这份回单此前已导入，本次未做任何更改。",
    "payee_requested": "收款人变更申请已提交，须由另一名人员审批；批准前仍按原收款信息支付。",
    "account_cleared": "已核实该账户：所列各户不再因收款账户与其他家庭相同而暂缓支付，并写入审计日志。",
    "payee_approved": "收款人变更已批准。支付失败的案件已转为待支付，可列入新的支付批次。",
    "payee_rejected": "收款人变更已驳回，收款信息不变。",
    "round": "抽样轮次已开始。请县级复核方和保险公司各自提交承诺值，然后冻结总体。",
    "round_already": "本县这一期间、这种方式的抽样轮次此前已开始、尚未冻结（重复提交未再创建），请在本轮次中继续。",
    "committed": "承诺值已提交。",
    "frozen": "总体已冻结并写入签名检查点。请核对后，双方各自揭示秘密值。",
    "public_value": "公开随机值已录入。",
    "revealed": "秘密值已揭示。",
    "passed_over": "已略过未按期揭示的一方，并记入本轮和审计日志。",
    "drawn": "样本已抽取。",
    "supplement_confirmed": "补发已确认，可由理赔人员列入下一个支付批次。",
    "recheck": "复核结果已保存。",
    "visit_added": "走访证据已补录，该户复核结果计入本轮结论。",
    "expanded": "样本已扩大，请继续复核新抽中的案件。",
    "corrected": "复核结果已更正，原结果保留在审计日志中。",
    "item_removed": "已移出批次，该案件回到待支付。",
    "signoff_refused": "已签署不同意意见，批次退回待审批：理赔人员可移出有问题的案件，财务人员重新审批。",
    "sent_back": "核查已退回，案件回到待安排入户核查。",
    "application_edited": "申请信息已修改。",
    "application_edited_only": "申请信息已修改（只改本申请及其案件）：该户另有案件或成员，户主姓名、乡镇、村、户类型、电话和成员姓名"
                               "以该户的登记为准，未随之更改；该户的登记见其一户一档（下方链接），成员的并入、迁出由保险公司主管"
                               "在案件页“合并家庭”“迁移成员”提出。",
    "password_own": "密码已修改，您在其他设备上的登录已全部退出。",
    "user_disabled": "账号已停用，该用户已登录的所有设备已退出。",
    "user_enabled": "账号已启用。",
    "roster_confirmed": "名册已确认，即为本县现行名册，并已写入审计日志。",
    "register_confirmed": "比对名单已确认生效，此后的比对以它为准，并已写入审计日志。",
    "register_declined": "比对名单已退回，不会生效；现行的同类名单不变。",
    "roster_imported": "名册已上传，状态为待确认：须由本县另一名县级复核员核对名册变化后确认才生效。",
    "roster_repeated": "这个文件此前已上传过，本次未做任何更改。",
    "roster_rejected": "名册已退回，不会生效；现行名册不变。",
    "grant_confirmed": "角色授权已确认，该账号即时获得此角色，并已写入审计日志。",
    "grant_refused": "角色授权已拒绝，该账号不会获得此角色，并已写入审计日志。",
    "contract_accepted": "已确认服务合同，并写入审计日志；合同所覆盖的每个县（区）都确认后即生效。确认不能撤回。",
    "contract_refused": "已拒绝确认服务合同，并写入审计日志；这份合同不会生效。",
    "roles_proposed": "已提出角色授权：标注“须另一人确认”的角色须由另一位管理员或县级复核员在“角色授权”页确认后才生效。",
    "place_added": "已添加到本县乡镇村名单，并记入审计日志。",
    "meeting": "村级评议会已记录，各户的评议结果已分别写入案件；评议未通过的农户须由本县其他经办人或县级复核人员确认后才结案。",
    "meeting_already": "这场村级评议会此前已记录（重复提交未再保存），各户的评议结果以此为准。",
    "wall_photo": "公示张贴照片已上传。",
    "posting_confirmed": "公示张贴已确认：公示期满结束后，名单中的农户可以付款。",
    "household_merged": "两户已合并为一户；同类同年度的案件已合为一案，记入审计日志。",
    "member_moved": "成员已迁移，记入审计日志和家庭变动记录。",
    "household_merge_proposed": "合并家庭的申请已提交，待另一位保险公司主管或县级复核员确认；确认前两户不变。",
    "member_move_proposed": "迁移成员的申请已提交，待另一位保险公司主管或县级复核员确认；确认前各户不变。",
    "household_change_confirmed": "已确认：各户已按申请变更，记入审计日志和家庭变动记录。",
    "household_change_declined": "已驳回这份申请，各户不变；驳回原因已记录。",
    "household_change_withdrawn": "已撤销这份申请，各户不变。",
    "repayment_recorded": "还款已登记，须由另一名财务人员或县级复核人员确认后才计入追回金额。",
    "repayment_confirmed": "还款已确认，已计入追回金额并退回资金余额。",
    "repayment_rejected": "还款登记已驳回，不计入追回金额。",
    "recovery_waived": "未追回部分已核销。",
    "recovery_waiver_requested": "核销申请已提交，须由另一名县级复核人员确认后才核销。",
    "recovery_waiver_declined": "核销申请已驳回，追回继续进行；申请人可另行申请核销。",
    "redetermined": "已重新认定：继续办理的案件可列入支付批次，认定不符合条件的案件已办结。",
    "redetermination_proposed": "重新认定与县级复核结论不一致：已提交，须由本县县级复核人员确认后才生效，暂停支付继续。",
    "redetermination_raised": ("重新认定按县级复核提高了保障金：已提交，须由另一名县级复核人员（不是录入该复核结果的人）"
                               "确认后才生效，在此之前保障金仍为原认定金额，暂停支付继续。"),
    "redetermination_confirmed": "已确认重新认定：暂停支付已解除，案件可列入支付批次。",
    "redetermination_declined": "重新认定提议已驳回：暂停支付继续，须由保险公司主管重新认定。",
    "redetermination_withdrawn": "重新认定提议已撤回，未生效：暂停支付继续，保障金仍为原认定金额，须由保险公司主管重新认定。",
    "followup": "回访已记录。",
    "followup_needs": "回访已记录。发现的新需求，请在下方“最近的回访”中点“转交部门”，转交责任部门。",
    "followup_alone_confirmed": "已确认这次回访：县级复核完毕，回访结果有效。",
    "followup_alone": ("回访已记录，待县级复核：您登记了这户的收款账户、本县没有其他核查员，"
                       "这次回访须由未参与支付的县级审核人员确认后才作数。"),
    "followup_needs_alone": ("回访已记录，待县级复核：您登记了这户的收款账户、本县没有其他核查员，"
                             "这次回访须由未参与支付的县级审核人员确认后才作数。"
                             "发现的新需求，请在下方“最近的回访”中点“转交部门”，转交责任部门。"),
    "followup_alone_refused": "已退回这次回访：这笔保障金须重新回访（本县没有其他核查员的，由保险公司主管指派）。",
    "followup_assigned": "已指派：该核查员录入的回访仍须县级审核人员复核。",
    "followup_already": "这笔保障金已经回访过了（重复提交未再保存）。",
    "receipt_resolved": ("核实结果已记录；核实未收到的，已开立追回和补发（补发待另一名县级审核人员确认）；收款账户已变更而核实已收到的，"
                         "待另一名县级审核人员复核后才算核实完毕。"),
    "receipt_confirmed": "复核已记录：这次回访的核实已收到经两名县级审核人员确认，核实完毕。",
    "receipt_returned": "已退回：这次回访重新列入待核实，须由其他县级审核人员重新核实（原核实人不能再核实）。",
    "receipt_withdraw_proposed": "撤回已提议：须由另一名县级审核人员确认后，才撤回核实未收到、撤销追回和补发。",
    "receipt_withdrawn": ("已撤回核实未收到：追回和补发已撤销，这次回访重新列入待核实，须由其他县级审核人员重新核实"
                          "（原核实人不能再核实）。"),
    "receipt_withdraw_dropped": "撤回提议已撤销：核实未收到照常有效，追回和补发继续办理；需要时可重新提议撤回。",
    "receipt_withdraw_declined": "已驳回撤回提议：核实未收到照常有效，追回和补发继续办理；需要时可重新提议撤回。",
    "need_referred": "需求已转交责任部门，部门答复后由县级复核人员录入。",
    "need_already": "该户的这项需求已转交部门、尚未答复（重复提交未再保存）。",
    "need_answered": "部门答复已录入。",
    "need_answer_already": "这项需求的部门答复此前已录入（重复提交未再保存）。",
}

# A chart bar the case list was opened from (`dashboard.chart_label`), for its banner.
CHART_LABELS = {"new": "新受理案件", "checks:on_time": "入户核查按期完成", "checks:late": "入户核查逾期完成",
                "fund:paid": "资金：已支付", "fund:committed": "资金：支付中占用",
                "followups:due": "回访：本期到期", "followups:pending": "回访：本期到期未回访",
                "followups:overdue_open": "回访：逾期未回访", "followups:done": "回访：本期完成",
                "followups:not_received": "回访：称未收到救助金"}

# The accounts page (`users.py`): a change of an account's confirmation (title, text, button).
ACCOUNT_ACTIONS = {
    "disable": ("停用账号", "停用后该用户不能再登录，已登录的所有设备立即退出。", "确定停用"),
    "enable": ("启用账号", "启用后该用户可以用原密码重新登录。", "确定启用"),
}

# The title of every error by its status: an error page's, and every problem the API answers (RFC 9457 `title`,
# the same for every problem of a status: programs switch on `status`, people read the title and the detail).
ERROR_TITLES = {400: "请求有误", 401: "未登录", 403: "无权访问", 404: "未找到", 405: "不支持此访问方式",
                409: "当前状态不允许此操作", 410: "已停用", 413: "内容过大", 422: "填写有误", 429: "操作过于频繁", 500: "系统出错",
                503: "暂时无法服务", 507: "存储空间已满"}


def error_title(status: int) -> str:
    """The Chinese title of an error of `status` (`ERROR_TITLES`; 出错了 for a status it does not list)."""
    return ERROR_TITLES.get(status, "出错了")


def role_refusal(wanted: Any) -> str:
    """Why a route is refused to a logged-in user whose roles it does not take, naming the roles it takes."""
    named = "、".join(ROLE_LABELS.get(r, r) for r in wanted or ()) if not isinstance(wanted, str) else ""
    if not named:
        return "此功能不对任何角色开放。"
    return f"此功能仅限{named}使用，您的账号没有{'该角色' if len(wanted) == 1 else '其中任何一个角色'}。"


# The schema's refusals of a request (msgspec's and Litestar's words for a body, query or path that does not fit the
# declared types), said of the field they name: `schema_message`.
_TYPES = {"str": "文字", "int": "整数", "float": "数字", "bool": "true 或 false", "array": "列表", "object": "对象",
          "null": "空值", "decimal": "数字"}
_SCHEMA_MESSAGES: Table = compile_table([
    (r"Expected `str` of length <= (\d+)", lambda m: f"不能超过 {m.group(1)} 个字"),
    (r"Expected `str` of length >= 1", "必填"),
    (r"Expected `str` of length >= (\d+)", lambda m: f"至少 {m.group(1)} 个字"),
    (r"Expected `str` matching regex .*", "格式有误（含不允许的字符）"),
    (r"Expected `array` of length <= (\d+)", lambda m: f"最多 {m.group(1)} 项"),
    (r"Expected `array` of length >= (\d+)", lambda m: f"至少 {m.group(1)} 项"),
    (r"Expected `(?:int|float|decimal)` >= (-?[\d.]+)", lambda m: f"不能小于 {m.group(1)}"),
    (r"Expected `(?:int|float|decimal)` <= (-?[\d.]+)", lambda m: f"不能大于 {m.group(1)}"),
    (r"Expected `(?:int|float|decimal)` > (-?[\d.]+)", lambda m: f"应大于 {m.group(1)}"),
    (r"Expected `(?:int|float|decimal)` < (-?[\d.]+)", lambda m: f"应小于 {m.group(1)}"),
    (r"Expected `(\w+)(?: \| null)?`, got `\w+`",
     lambda m: f"应为{_TYPES[m.group(1)]}" if m.group(1) in _TYPES else "类型不对"),
    (r"Object missing required field `[^`]+`", "必填"),
    (r"Object contains unknown field `[^`]+`", "不接受此字段"),
    (r"Invalid enum value .*", "不是可选的值"),
    (r"Invalid RFC3339 encoded date", "日期应写作 YYYY-MM-DD"),
    (r"Invalid RFC3339 encoded datetime", "时间应写作 ISO 8601 格式（含时区）"),
    (r"Missing required (?:query|path|header|cookie) parameter.*", "必填"),
    (r"JSON is malformed.*|Input data was truncated.*", "不是有效的 JSON"),
])
_SCHEMA_AT = re.compile(r"(?P<said>.*?)(?: - at `\$\.?(?P<at>[^`]*)`)?")
_SCHEMA_FIELD = re.compile(r"Object (?:missing required|contains unknown) field `(?P<at>[^`]+)`")


def schema_message(field: str, message: str) -> tuple[str, str | None]:
    """A schema's refusal as (the field it is about, its message in Chinese, or None when no row of
    `_SCHEMA_MESSAGES` says it): the field a message names (`- at $.name`, a missing or unknown field) wins."""
    m = _SCHEMA_AT.fullmatch(message.strip())
    said, at = (m.group("said"), m.group("at")) if m else (message, None)
    named = _SCHEMA_FIELD.fullmatch(said)
    return (at or (named.group("at") if named else None) or field), translate(_SCHEMA_MESSAGES, said)


# What an error says when its message has no Chinese yet (a service's, or Litestar's own): never the English itself.
ERROR_UNSAID = {400: "请求有误，未被受理。", 401: "请先登录。", 403: "您不能进行此操作。",
                404: "没有找到要找的内容，或不在您的权限范围内。", 405: "此地址不支持这种请求方式。",
                409: "当前状态不允许此操作，请刷新页面查看最新情况。", 413: "提交的内容过大，未被受理。",
                422: "提交的内容有误。", 429: "操作过于频繁，请稍后再试。",
                500: "系统出错，本次操作未完成。请稍后重试，仍不行请联系系统管理员。", 503: "暂时无法服务，请稍后重试。"}
# Litestar's own messages (its authentication, CSRF check, routing, body limits) that say more than their status.
_HTTP_MESSAGES: Table = compile_table([
    (r"CSRF.*", "表单已过期或来源不明，未被受理。请返回上一页、刷新后重新提交。"),
    (r"Invalid token", "登录已失效或令牌无效，请重新登录。"),
])


def http_message(status: int, message: str) -> str:
    """An HTTP error's message in Chinese: as it is when it is Chinese already, else Litestar's own said in Chinese
    (`_HTTP_MESSAGES`), else the status's plain sentence (`ERROR_UNSAID`)."""
    if _HAN.search(message):
        return message
    return translate(_HTTP_MESSAGES, message.strip()) or ERROR_UNSAID.get(status, "无法完成此操作。")


RECUSAL_STEPS = {
    "application": "录入农户申请",
    "schedule": "安排走访（选派核查员）",
    "check": "录入入户核查",
    "evidence": "为须另派核查员重新核查的案件上传证明材料",
    "determination": "确认核查认定",
    "redetermination": "解除抽样暂缓、重新认定",
    "redetermination_confirm": "确认待县级确认的重新认定",
    "redetermination_decline": "驳回待县级确认的重新认定",
    "redetermination_withdraw": "撤回待县级确认的重新认定",
    "screening": "初筛",
    "village_review": "录入村级评议",
    "meeting": "录入村级评议会议",
    "notice_gather": "生成公示（列入案件）",
    "notice_posting": "确认公示张贴",
    "notice_photo": "上传公示张贴照片",
    "notice_close": "结束公示",
    "objection_record": "登记公示异议",
    "objection_dismiss": "驳回公示异议",
    "recheck": "县级抽样复核",
    "recheck_correct": "更正他人录入的县级抽样复核结果",
    "recheck_visit": "为他人录入的县级抽样复核结果补录走访证据",
    "followup": "录入回访",
    "followup_alone_confirm": "确认登记收款账户的人员独自录入的回访（回访待县级复核）",
    "followup_alone_refuse": "退回登记收款账户的人员独自录入的回访（回访待县级复核）",
    "receipt_review": "核实回访中未收到救助金",
    "receipt_confirm": "复核回访核实已收到（收款账户已变更或收款人不是本户成员）",
    "receipt_return": "退回回访核实已收到（收款账户已变更或收款人不是本户成员）",
    "receipt_withdraw_propose": "提议撤回回访核实未收到",
    "receipt_withdraw_confirm": "确认撤回回访核实未收到",
    "receipt_withdraw_drop": "撤销撤回回访核实未收到的提议",
    "receipt_withdraw_decline": "驳回撤回回访核实未收到的提议",
    "supplement_confirm": "确认补发",
    "payee_request": "申请变更收款人",
    "payee_decide": "审批收款人变更",
    "batch_prepare": "生成支付批次",
    "batch_approve": "审批支付批次",
    "batch_signoff": "县级签批支付批次",
    "batch_release": "发放支付批次",
    "bank_file": "下载银行文件",
    "bank_return": "导入银行回盘",
    "recovery_waiver": "追回款减免",
    "recovery_repayment": "登记、确认或驳回追回还款",
    "account_clear": "核实一账多户或工作人员本人账户",
    "household_merge": "合并家庭",
    "member_move": "迁移家庭成员",
    "household_change_confirm": "确认合并家庭或迁移成员",
    "household_change_decline": "驳回合并家庭或迁移成员",
    "referral_import": "导入转介文件（相关行留待他人导入）",
    "register_finding": "处理部门信息比对发现",
    "register_confirm": "确认部门比对名单生效",
    "register_decline": "退回要取代自己经手的现行名单的部门比对名单",
    "check_send_back": "退回入户核查",
    "review_request": "登记复核申请",
    "followup_paid": "录入回访（参与了该笔保障金的支付）",
    "sampling_commit": "代表一方提交抽样承诺",
    "need_answer": "录入转交部门需求的答复",
}
"""What the 回避 refusals' page (回避拦截记录) calls each step a refusal stopped (`recusal/refusals.STEPS`)."""


# A look at a household's personal data (查阅留痕, peeks/record.py): what was looked at, and through which door.
PERSONAL_VIEW_KINDS = {"evidence": "证据文件", "household_file": "一户一档", "household_export": "一户一档导出",
                       "phone": "完整电话"}
PERSONAL_VIEW_ROUTES = {"page": "页面", "api": "接口"}
