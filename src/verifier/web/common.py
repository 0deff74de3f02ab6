"""What every page shares: the navigation, rendering with the user and the form state, redirects, form errors."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeAlias
from urllib.parse import urlencode

from litestar import Request
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from ..accounts import service as account_service
from ..accounts.auth import PASSWORD_CHANGE, Principal
from ..audit import service as audit_service
from ..domain.errors import FieldError, ValidationFailed
from . import labels

Req: TypeAlias = Request[Principal, Any, Any]

ANY: dict[str, Any] = {"roles": "any"}
# The pages open to an account whose password an administrator set: changing it, and logging out.
OPEN_BEFORE_CHANGE: dict[str, Any] = {"roles": "any", PASSWORD_CHANGE: True}
PUBLIC: dict[str, Any] = {"public": True}
CLERK: dict[str, Any] = {"roles": ("town_clerk",)}
SUPERVISOR: dict[str, Any] = {"roles": ("insurer_supervisor",)}
OFFICER: dict[str, Any] = {"roles": ("field_officer",)}
IMPORTERS: dict[str, Any] = {"roles": ("insurer_supervisor", "county_reviewer")}
AUDIT_READERS: dict[str, Any] = {"roles": audit_service.READERS}


@dataclass(frozen=True)
class NavItem:
    label: str
    href: str | None  # None: a page still being built; shown greyed out so users know it is coming
    roles: tuple[str, ...] | str


NAV: tuple[NavItem, ...] = (
    NavItem("首页", "/", "any"),
    NavItem("我的走访", "/visits", ("field_officer",)),
    NavItem("回访", "/followups", ("field_officer", "insurer_supervisor", "county_reviewer", "auditor")),
    NavItem("转交部门", "/need-referrals", ("field_officer", "insurer_supervisor", "county_reviewer", "auditor")),
    NavItem("案件", "/cases", "any"),
    NavItem("录入申请", "/applications/new", ("town_clerk",)),
    NavItem("村级评议会", "/meetings/new", ("town_clerk",)),
    NavItem("公示", "/notices", ("town_clerk", "insurer_supervisor", "county_reviewer", "auditor", "admin")),
    NavItem("排期", "/schedule", ("insurer_supervisor",)),
    NavItem("乡镇村名单", "/places", ("town_clerk", "insurer_supervisor", "county_reviewer", "admin")),
    NavItem("导入监测信息", "/referrals/import", ("insurer_supervisor", "county_reviewer")),
    NavItem("支付批次", "/payments", ("insurer_claims", "finance", "county_reviewer", "insurer_supervisor", "auditor")),
    NavItem("收款人变更", "/payee-changes", ("insurer_supervisor", "finance", "county_reviewer")),
    NavItem("资金", "/fund", ("finance", "county_reviewer", "auditor")),
    NavItem("追回", "/recoveries", ("finance", "county_reviewer", "auditor")),
    NavItem("抽样复核", "/sampling", ("county_reviewer", "insurer_supervisor", "auditor")),
    NavItem("月报", "/reports", ("county_reviewer", "auditor", "insurer_supervisor", "finance")),
    NavItem("审计日志", "/audit", ("auditor", "county_reviewer", "admin")),
    NavItem("用户管理", "/users", ("admin",)),
    NavItem("角色授权", "/role-grants", ("admin", "county_reviewer")),
    NavItem("服务合同", "/contracts", ("county_reviewer", "admin", "auditor", "insurer_supervisor")),
)


def nav_for(user: Principal | None) -> list[NavItem]:
    if user is None:
        return []
    return [n for n in NAV if n.roles == "any" or user.has(*n.roles)]


DONE_MESSAGES = {
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
    "check": "入户核查已提交。",
    "bills_added": "票据已补录：认定页按补录后的票据计算。",
    "check_done": "本案的入户核查已提交，无需再填写；以下是已保存的内容。",
    "attempt": "已登记未能核查，案件退回主管重新安排走访。",
    "attempt_already": "这次走访的未能核查情况此前已登记（重复提交未再保存），案件已退回主管重新安排走访。",
    "already": "这份核查此前已提交成功（重复提交未再保存），以下是已保存的内容。",
    "notice": "公示已发布。",
    "objection": "异议已登记。",
    "objection_already": "这条异议此前已登记（重复提交未再保存）。",
    "resolved": "异议已处理。",
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
    "expanded": "样本已扩大，请继续复核新抽中的案件。",
    "corrected": "复核结果已更正，原结果保留在审计日志中。",
    "item_removed": "已移出批次，该案件回到待支付。",
    "signoff_refused": "已签署不同意意见，批次退回待审批：理赔人员可移出有问题的案件，财务人员重新审批。",
    "sent_back": "核查已退回，案件回到待安排入户核查。",
    "application_edited": "申请信息已修改。",
    "password_own": "密码已修改，您在其他设备上的登录已全部退出。",
    "user_disabled": "账号已停用，该用户已登录的所有设备已退出。",
    "user_enabled": "账号已启用。",
    "grant_confirmed": "角色授权已确认，该账号即时获得此角色，并已写入审计日志。",
    "grant_refused": "角色授权已拒绝，该账号不会获得此角色，并已写入审计日志。",
    "contract_accepted": "已确认服务合同，并写入审计日志；合同所覆盖的每个县（区）都确认后即生效。确认不能撤回。",
    "contract_refused": "已拒绝确认服务合同，并写入审计日志；这份合同不会生效。",
    "roles_proposed": "已提出角色授权：涉及资金或授权的角色须由另一位管理员或县级复核员在“角色授权”页确认后才生效。",
    "place_added": "已添加到本县乡镇村名单，并记入审计日志。",
    "meeting": "村级评议会已记录，各户的评议结果已分别写入案件；评议未通过的农户须由本县其他经办人或县级复核人员确认后才结案。",
    "meeting_already": "这场村级评议会此前已记录（重复提交未再保存），各户的评议结果以此为准。",
    "wall_photo": "公示张贴照片已上传。",
    "posting_confirmed": "公示张贴已确认：公示期满结束后，名单中的农户可以付款。",
    "household_merged": "两户已合并为一户；同类同年度的案件已合为一案，记入审计日志。",
    "member_moved": "成员已迁移，记入审计日志和家庭变动记录。",
    "repayment_recorded": "还款已登记，须由另一名财务人员或县级复核人员确认后才计入追回金额。",
    "repayment_confirmed": "还款已确认，已计入追回金额并退回资金余额。",
    "repayment_rejected": "还款登记已驳回，不计入追回金额。",
    "recovery_waived": "未追回部分已核销。",
    "recovery_waiver_requested": "核销申请已提交，须由另一名县级复核人员确认后才核销。",
    "redetermined": "已重新认定：继续办理的案件可列入支付批次，认定不符合条件的案件已办结。",
    "followup": "回访已记录。",
    "followup_needs": "回访已记录。发现的新需求，请在下方“最近的回访”中点“转交部门”，转交责任部门。",
    "followup_already": "这笔保障金已经回访过了（重复提交未再保存）。",
    "need_referred": "需求已转交责任部门，部门答复后由县级复核人员录入。",
    "need_already": "该户的这项需求已转交部门、尚未答复（重复提交未再保存）。",
    "need_answered": "部门答复已录入。",
    "need_answer_already": "这项需求的部门答复此前已录入（重复提交未再保存）。",
}


def current_user(request: Request[Any, Any, Any]) -> Principal | None:
    user = request.scope.get("user")
    return user if isinstance(user, Principal) else None


def is_htmx(request: Request[Any, Any, Any]) -> bool:
    return request.headers.get("hx-request") == "true"


@dataclass
class FormState:
    """What was typed (to show it again) and what is wrong with it, per field and in general."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)

    def add(self, field_name: str, message: str) -> None:
        self.errors.setdefault(field_name, []).append(message)

    @property
    def failed(self) -> bool:
        return bool(self.errors or self.general)

    def value(self, name: str, default: Any = "") -> Any:
        return self.values.get(name, default)


def form_state(values: Mapping[str, Any] | None = None, exc: ValidationFailed | None = None,
               fields: Iterable[str] = (), rename: Mapping[str, str] | None = None) -> FormState:
    """The form's state after `exc`: each error under its field when the form has that field, otherwise general."""
    state = FormState(values={k: v for k, v in (values or {}).items() if isinstance(v, str)})
    known = set(fields)
    for e in (exc.errors if exc else []):
        add_error(state, e, known, rename or {})
    return state


def add_error(state: FormState, e: FieldError, known: set[str], rename: Mapping[str, str]) -> None:
    name = rename.get(e.field, e.field)
    message = labels.message_zh(e.message)
    if name in known:
        state.add(name, message)
    else:
        state.general.append(f"{labels.field_label(name)}：{message}")


def layout_context(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """What the layout (base.html) is given besides the message of `done`: all of it follows from the user and the
    address's path."""
    user = current_user(request)
    return {"user": user, "nav": nav_for(user), "path": request.url.path, "role_labels": labels.ROLE_LABELS,
            "blank": FormState()}


def done_message(request: Request[Any, Any, Any]) -> str | None:
    """The message of the address's `done` (after a form was saved), if any."""
    return DONE_MESSAGES.get(request.query_params.get("done") or "")


def page(request: Request[Any, Any, Any], template: str, *, status_code: int = 200, **context: Any) -> Template:
    return Template(
        template_name=template,
        status_code=status_code,
        media_type="text/html",  # whatever the handler's declared return type
        context={**layout_context(request), "done": done_message(request), **context},
    )


def see_other(path: str, **query: Any) -> Redirect:
    """After a successful POST: 303 to the page showing the result (a reload does not post again)."""
    q = {k: v for k, v in query.items() if v is not None}
    return Redirect(path=path + (("?" + urlencode(q)) if q else ""), status_code=303)


def safe_next(target: str | None) -> str:
    """Only a path on this site: never another host (an open redirect)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    return target


def clean(value: Any) -> str:
    """Text as typed, trimmed: only composed to NFC, so full-width punctuation (，（）：) stays as the clerk typed it."""
    if not isinstance(value, str):
        return ""
    return unicodedata.normalize("NFC", value).strip()


def confirmed(data: Any) -> bool:
    """Whether the form's confirmation box (`confirm=yes`) was ticked: an action that cannot be undone asks for it,
    so a stray click or a double click never does it."""
    return isinstance(data, dict) and data.get("confirm") == "yes"


def folded(value: Any) -> str:
    """A number, date, code or ID number as typed, trimmed, with full-width digits, letters and signs folded to
    ASCII (phones type them with some IMEs): "２０２０－０６－０１" is 2020-06-01."""
    if not isinstance(value, str):
        return ""
    return unicodedata.normalize("NFKC", value).strip()


def parse_day(value: Any, field_name: str, problems: list[FieldError], *, required: bool = True) -> date | None:
    text = folded(value)
    if not text:
        if required:
            problems.append(FieldError(field_name, "required"))
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.append(FieldError(field_name, "must be a date"))
        return None


SYSTEM = "system"  # the actor and role of entries no person made


def user_names(session: Session, ids: Iterable[str]) -> dict[str, str]:
    """The display names of these users (and 系统 for the system's own entries), to show instead of their ids."""
    names = {SYSTEM: labels.ROLE_LABELS[SYSTEM]}
    wanted = {i for i in ids if i} - {SYSTEM}
    names.update(account_service.display_names(session, wanted))
    return names


def counties_of(session: Session, user: Principal) -> list[str]:
    """The counties a user may pick from: their own, or every county under a contract when unrestricted."""
    if user.counties:
        return list(user.counties)
    from ..store.contracts import all_contracts

    return counties_in(user, all_contracts(session))


def counties_in(user: Principal, contracts: Iterable[Any]) -> list[str]:
    """`counties_of` given every contract."""
    if user.counties:
        return list(user.counties)
    return sorted({c for contract in contracts for c in contract.county_codes})
